"""Benchmark (prints figures; not a test): evaluating one multilingual model over all its languages in
one process (the workflow's evaluation job) against one process per language.

    python bench/eval_overhead.py [--directory RUN] [--system universal|student|assistant/TYPE/CLUSTER]
        [--hkd-root DIR] [--batch-size 64] [--tokenize none]

RUN is a finished workflow run (its results/ folder: the model's checkpoint, the binarized test sets,
the references, and the model's score files results/eval/<system>/<lang>.json, which give its
languages, beam and length limits). Both ways run ``python -m hkd.evaluate`` as the workflow does,
on the same arguments, into a temporary folder; the one-process run's log gives its model loading
and each language's decoding time. The hypotheses of both ways must be identical (checked).
``--hkd-root`` takes hkd from another checkout (e.g. a worktree of an older commit: how its
evaluation did), through PYTHONPATH with ``python -P`` (the run folder's own hkd link is not used).

Prints, per way: processes, wall seconds, seconds per language; then what one process saves.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOADED = re.compile(r"loaded once, in ([\d.]+) s")
DECODED = re.compile(r"hkd\.evaluate: (\S+): \d+ sentences translated in ([\d.]+) s")


def model_of(directory: Path, system: str, tgt: str) -> dict:
    """The checkpoint, data folder, languages, beam, length limits and task arguments of one
    multilingual model of the run, from its score files."""
    scores = sorted((directory / "results" / "eval" / system).glob("*.json"))
    if not scores:
        raise FileNotFoundError(f"{directory / 'results/eval' / system}: no score files; finish the run first")
    records = [json.loads(path.read_text()) for path in scores]
    langs = [r["lang"] for r in records]
    if system == "universal":
        pairs = ",".join(f"{lang}-{tgt}" for lang in langs)
        data, extra = "results/data/bin/all", ["--task", "translation_multi_simple_epoch", "--lang-pairs", pairs,
                                               "--langs", ",".join([*langs, tgt]), "--encoder-langtok", "src"]
    elif system == "student" or system.startswith("assistant/"):
        data, extra = "results/data/bin", ["--task", "hkd_multilingual", "--langs", "{lang}"]
    else:
        raise ValueError(f"{system}: not a multilingual model (universal, student, assistant/TYPE/CLUSTER)")
    first = records[0]
    return {"checkpoint": first["checkpoint"], "data": data, "langs": langs, "beam": first["beam"],
            "max_len": first["max_len"], "extra": extra}


def command(model: dict, langs: list[str], out: Path, tgt: str, batch_size: int, tokenize: str) -> list[str]:
    """``python -P -m hkd.evaluate`` on `langs` of `model`, writing into `out`."""
    return [sys.executable, "-P", "-m", "hkd.evaluate", "--data", model["data"], "--checkpoint", model["checkpoint"],
            "--src-langs", *langs, "--tgt-lang", tgt,
            "--references", *[f"results/data/raw/{lang}/test.{tgt}" for lang in langs], "--system", "bench",
            "--beam", str(model["beam"]), "--tokenize", tokenize, "--batch-size", str(batch_size),
            "--max-len-a", str(model["max_len"][0]), "--max-len-b", str(model["max_len"][1]), "--threads", "1",
            "--out-jsons", *[str(out / f"{lang}.json") for lang in langs],
            "--out-hyps", *[str(out / f"{lang}.hyp") for lang in langs], "--", *model["extra"]]


def run(cmd: list[str], directory: Path, hkd_root: Path) -> tuple[float, str]:
    """Wall seconds and stderr of one evaluation process."""
    env = {**os.environ, "PYTHONPATH": str(hkd_root)}
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=directory, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])} ... failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--directory", type=Path, default=Path("."), help="a finished run's working directory")
    parser.add_argument("--system", default="universal", help="universal, student or assistant/TYPE/CLUSTER")
    parser.add_argument("--hkd-root", type=Path, default=ROOT, help="the checkout whose hkd runs (default: this one)")
    parser.add_argument("--target", default="en")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--tokenize", default="none")
    args = parser.parse_args(argv)
    directory, root = args.directory.resolve(), args.hkd_root.resolve()
    model = model_of(directory, args.system, args.target)
    langs = model["langs"]
    with tempfile.TemporaryDirectory() as tmp:
        one, per = Path(tmp) / "one", Path(tmp) / "per"
        one_s, one_log = run(command(model, langs, one, args.target, args.batch_size, args.tokenize), directory, root)
        per_s = [run(command(model, [lang], per, args.target, args.batch_size, args.tokenize), directory, root)[0]
                 for lang in langs]
        differ = [lang for lang in langs if (one / f"{lang}.hyp").read_bytes() != (per / f"{lang}.hyp").read_bytes()]
    if differ:
        raise SystemExit(f"hypotheses differ between the two ways for {differ}")
    n = len(langs)
    print(f"{args.system}: {model['checkpoint']}, {n} languages, beam {model['beam']}, hkd from {root}")
    print(f"{'way':<28}{'processes':>10}{'wall s':>9}{'s/lang':>8}")
    print(f"{'one process, all languages':<28}{1:>10}{one_s:>9.1f}{one_s / n:>8.2f}")
    print(f"{'one process per language':<28}{n:>10}{sum(per_s):>9.1f}{sum(per_s) / n:>8.2f}")
    print(f"one process saves {sum(per_s) - one_s:.1f} s ({100 * (1 - one_s / sum(per_s)):.0f} %); "
          f"a one-language process takes {min(per_s):.1f}-{max(per_s):.1f} s")
    loaded, decoded = LOADED.search(one_log), DECODED.findall(one_log)
    if loaded and decoded:
        seconds = sum(float(s) for _, s in decoded)
        print(f"in the one process: model loaded once in {loaded.group(1)} s; decoding {seconds:.1f} s in all "
              f"({seconds / n:.2f} s a language); the rest ({one_s - float(loaded.group(1)) - seconds:.1f} s) is "
              f"Python, torch and fairseq start-up and scoring")
    print("hypotheses identical in both ways")
    return 0


if __name__ == "__main__":
    sys.exit(main())
