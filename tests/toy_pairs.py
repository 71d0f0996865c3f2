"""Tiny binarized many-to-English data for the KD tests, written in-process (no fairseq-preprocess).

Each toy language is a word-for-word cipher of a small English vocabulary (language xa reverses the
word order, xb keeps it), so a 1-epoch teacher learns a little. The layout is the workflow's:
ROOT/<lang>/{train,valid,test}.<lang>-en.{<lang>,en}.{bin,idx} and dict.{<lang>,en}.txt, one shared
dictionary with the language tokens __xx__.

Also the helpers the KD tests share: ``setup_task`` (the hkd_multilingual task in-process) and
``fairseq`` / ``finish`` (a fairseq command line in a child process, with the plugin).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "hkd_fairseq"

ENGLISH = ["the", "cat", "dog", "sees", "eats", "a", "big", "small", "fish", "bird", "runs", "home"]
SIZES = {"train": {"xa": 90, "xb": 30}, "valid": {"xa": 6, "xb": 6}, "test": {"xa": 5, "xb": 5}}
LANGS = ["xa", "xb"]
TINY_MODEL = [
    "--arch", "transformer", "--encoder-layers", "1", "--decoder-layers", "1",
    "--encoder-embed-dim", "16", "--decoder-embed-dim", "16", "--encoder-ffn-embed-dim", "32",
    "--decoder-ffn-embed-dim", "32", "--encoder-attention-heads", "2", "--decoder-attention-heads", "2",
    "--share-decoder-input-output-embed", "--optimizer", "adam", "--lr", "0.005", "--max-tokens", "400",
    "--cpu", "--num-workers", "0", "--no-epoch-checkpoints", "--seed", "1",
]


def word(lang: str, english: str) -> str:
    return f"{lang}{ENGLISH.index(english)}"


def sentences(lang: str, n: int, seed: str) -> list[tuple[str, str]]:
    rng = random.Random(f"{lang}-{seed}")
    pairs = []
    for _ in range(n):
        en = [rng.choice(ENGLISH) for _ in range(rng.randint(2, 7))]
        src = [word(lang, w) for w in (reversed(en) if lang == "xa" else en)]
        pairs.append((" ".join(src), " ".join(en)))
    return pairs


def dictionary():
    from fairseq.data import Dictionary

    d = Dictionary()
    for w in ENGLISH + [word(lang, w) for lang in LANGS for w in ENGLISH]:
        d.add_symbol(w)
    for lang in LANGS + ["en"]:
        d.add_symbol(f"__{lang}__")
    return d


def binarize(path_prefix: Path, lines: list[str], d) -> None:
    from fairseq.data import indexed_dataset

    builder = indexed_dataset.make_builder(f"{path_prefix}.bin", impl="mmap", vocab_size=len(d))
    for line in lines:
        builder.add_item(d.encode_line(line, add_if_not_exist=False, append_eos=True).long())
    builder.finalize(f"{path_prefix}.idx")


def write_toy_data(root: Path, seed: int = 1, sizes: dict | None = None) -> Path:
    """Write the toy data under `root` (created); `sizes` overrides SIZES (e.g. another data set)."""
    sizes = sizes or SIZES
    d = dictionary()
    for lang in LANGS:
        folder = root / lang
        folder.mkdir(parents=True, exist_ok=True)
        d.save(str(folder / f"dict.{lang}.txt"))
        d.save(str(folder / "dict.en.txt"))
        for split, per_lang in sizes.items():
            pairs = sentences(lang, per_lang[lang], f"{split}-{seed}")
            binarize(folder / f"{split}.{lang}-en.{lang}", [s for s, _ in pairs], d)
            binarize(folder / f"{split}.{lang}-en.en", [e for _, e in pairs], d)
    return root


def setup_task(data, *extra, langs: str = ",".join(LANGS)):
    """The hkd_multilingual task over `data`, set up in this process from fairseq-train arguments."""
    import hkd_fairseq  # noqa: F401  (registers the task)
    from fairseq import options, tasks
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf

    parser = options.get_training_parser()
    args = options.parse_args_and_arch(parser, [str(data), "--task", "hkd_multilingual", "--langs", langs,
                                                *TINY_MODEL, *map(str, extra)])
    return tasks.setup_task(convert_namespace_to_omegaconf(args).task)


def fairseq(module: str, *args, env_extra=None, wait=True):
    """`python -m module args --user-dir hkd_fairseq` on one thread: its output, or (process, command)
    to `finish` later when `wait` is false (to run several at once)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **(env_extra or {})}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    cmd = [sys.executable, "-m", module, *map(str, args), "--user-dir", str(PLUGIN)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return finish(proc, cmd) if wait else (proc, cmd)


def finish(proc, cmd):
    out, _ = proc.communicate(timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-5000:]}")
    return out
