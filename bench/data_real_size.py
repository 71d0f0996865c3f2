"""Figures at TED's real size: the data stages on a synthetic corpus as large as TED, the disk the
top-k stores need for the real TED-53 sizes, and the dry-run time of the full DAG.

    PYTHONPATH=. .venv/bin/python bench/data_real_size.py --work /tmp/hkd-real \\
        [--stages corpus extract bpe encode binarize stores dryrun] [--stores-from rehearsal/results]

Run it under the CPU lock (flock /tmp/hkd-cpu.lock ...): the data stages take tens of minutes.

- corpus: hkd.synthetic with 59 source columns (the 53 TED languages, pt-br, fr-ca, and TED's other
  four: eo, calv, zh-cn, zh-tw) plus en (60 language columns), the paper's training sizes, and
  258,098 train rows (TED's). Sentences of TED-like length: the generator's clauses (4-15 tokens)
  are joined two by two (rows 2i and 2i+1 of a corpus twice as long, both in the same talk for
  nearly every pair), so an English row has about 16 tokens, not the 8 of one clause. Time and peak memory of
  the generation are printed too, but it is not a workflow stage.
- extract, bpe (32k vocabulary, 2 M sampled sentences: config/ted53.yaml's bpe), encode (every
  pair), binarize (fairseq-preprocess of every pair, one worker): the workflow's own commands, as
  its rules run them (one process per pair for encode and binarize, run one after another here:
  the figures are sums of wall time and the largest peak memory).
- stores: bytes per target token of the teacher and assistant stores of a finished run
  (--stores-from: a results folder, e.g. the rehearsal's; header.json gives each store's tokens),
  times the target tokens of the real-size corpus (EOS included, as the stores count them) per
  language: the disk plan for the teachers' stores and the assistants' (one per distinct cluster
  of config/paper_clusters.yaml: those the student learns from). Without an encoded real-size
  corpus under --work, the tokens are estimated: the paper's sentences x --tokens-per-sentence.
- dryrun: the dry-run wall time of the paper's config with the clusters checkpoint done (its cheap
  inputs built first: the random types and the clusters file), so that the whole DAG is planned.

Peak memory is the maximum resident set of the stage's processes (GNU time's %M); CPU seconds are
user + system (%U + %S), the measure that holds on a machine shared with other jobs. Prints figures
only; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TED_TRAIN_ROWS = 258_098
OPTIONS = {"train_rows": TED_TRAIN_ROWS, "vocab_size": None, "langs": None}  # set by main (smoke runs)
# TED's four source columns that the paper does not use (approximate training sizes)
OTHER_COLUMNS = [("eo", "Esperanto", "south", 6535), ("calv", "Calvinist", "north", 5339),
                 ("zh-cn", "Chinese (CN)", "east", 199_855), ("zh-tw", "Chinese (TW)", "east", 202_646)]
CPU_SECONDS: list[float] = []  # per command, since the last report()
STAGES = ["corpus", "extract", "bpe", "encode", "binarize", "stores", "dryrun"]


def timed(cmd: list[str], log: Path, cwd: Path | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB) of one command, its output in log; raises when it fails. Its CPU
    seconds (user + system) are added to CPU_SECONDS: on a shared machine they, not the wall time,
    measure the work."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    stats = log.with_suffix(".time")
    with open(log, "w") as out:
        rc = subprocess.call(["/usr/bin/time", "-f", "%e %M %U %S", "-o", str(stats), *cmd], stdout=out,
                             stderr=subprocess.STDOUT, cwd=cwd, env=env)
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({rc}); see {log}")
    wall, rss, user, system = stats.read_text().split()[-4:]
    CPU_SECONDS.append(float(user) + float(system))
    return float(wall), int(rss) // 1024


def report(stage: str, wall: float, rss_mb: int, note: str = "") -> None:
    """One stage's figures: wall time, the CPU seconds of its commands since the last report, peak RSS."""
    cpu = sum(CPU_SECONDS)
    CPU_SECONDS.clear()
    print(f"{stage:<28} {wall:8.1f} s wall {cpu:8.1f} s CPU  peak {rss_mb:6d} MB  {note}", flush=True)


def config() -> dict:
    return yaml.safe_load((ROOT / "config" / "ted53.yaml").read_text())


def write_plan(path: Path) -> None:
    rows = (ROOT / "config" / "rehearsal_languages.tsv").read_text().splitlines()
    rows += [f"{c}\t{n}\t{f}\t{k}" for c, n, f, k in OTHER_COLUMNS]
    path.write_text("\n".join(rows) + "\n")


def pair_rows(src: Path, dst: Path) -> int:
    """Joins rows 2i and 2i+1 of a corpus TSV (a cell missing in either row is missing)."""
    null = ("__NULL__", "_ _ NULL _ _")
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        out.write(f.readline())
        n = 0
        while True:
            a, b = f.readline(), f.readline()
            if not b:
                break
            a, b = a.rstrip("\n").split("\t"), b.rstrip("\n").split("\t")
            cells = [a[0]] + [x if x in null else y if y in null else f"{x} {y}" for x, y in zip(a[1:], b[1:])]
            out.write("\t".join(cells) + "\n")
            n += 1
    return n


def stage_corpus(work: Path) -> None:
    gen, corpus = work / "generated", work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    write_plan(work / "plan.tsv")
    wall, rss = timed([str(BIN / "python"), "-m", "hkd.synthetic", "--out-dir", str(gen), "--scale", str(2 * OPTIONS["train_rows"] / TED_TRAIN_ROWS),
                       "--train-rows", str(2 * OPTIONS["train_rows"]), "--languages", str(work / "plan.tsv")],
                      work / "corpus.log")
    start = time.perf_counter()
    rows = {s: pair_rows(gen / f"all_talks_{s}.tsv", corpus / f"all_talks_{s}.tsv") for s in ("train", "dev", "test")}
    header = (corpus / "all_talks_train.tsv").open().readline().rstrip("\n").split("\t")
    english = [len(line.split("\t")[1].split()) for line in (corpus / "all_talks_train.tsv").open() if not line.startswith("talk_name")]
    report("corpus (generation)", wall + time.perf_counter() - start, rss,
           f"{rows['train']:,} train rows, {len(header) - 1} language columns, "
           f"{sum(english) / len(english):.1f} English tokens a row, "
           f"{(corpus / 'all_talks_train.tsv').stat().st_size / 1e9:.2f} GB")


def langs_and_merges() -> tuple[list[str], list[str]]:
    c = config()
    langs = OPTIONS["langs"] or c["languages"]
    return langs, [f"{s}:{d}" for s, d in c["merge"].items() if d in langs]


def stage_extract(work: Path) -> None:
    langs, merges = langs_and_merges()
    cmd = [str(BIN / "python"), "-m", "hkd.extract", "--corpus-dir", str(work / "corpus"), "--langs", *langs,
           "--target", "en", "--out-dir", str(work / "data" / "raw"), "--counts", str(work / "data" / "raw" / "counts.tsv")]
    for m in merges:
        cmd += ["--merge", m]
    wall, rss = timed(cmd, work / "extract.log")
    kept = sum(int(r.split("\t")[-2]) for r in (work / "data/raw/counts.tsv").read_text().splitlines()[1:]
               if r.split("\t")[1] == "train")
    report("extract", wall, rss, f"{kept:,} training pairs kept")


def stage_bpe(work: Path) -> None:
    langs, _ = langs_and_merges()
    b = config()["bpe"]
    b["vocab_size"] = OPTIONS["vocab_size"] or b["vocab_size"]
    inputs = [str(work / "data/raw" / lang / f"train.{side}") for lang in langs for side in (lang, "en")]
    (work / "data/spm").mkdir(parents=True, exist_ok=True)
    wall, rss = timed([str(BIN / "python"), "-m", "hkd.bpe", "train", "--inputs", *inputs,
                       "--model-prefix", str(work / "data/spm/spm"), "--vocab-size", str(b["vocab_size"]),
                       "--temperature", str(b["temperature"]), "--sample-sentences", str(b["sample_sentences"]),
                       "--character-coverage", str(b["character_coverage"]), "--seed", str(b["seed"]),
                       "--target", "en"], work / "bpe.log")
    report(f"bpe (train, {b['vocab_size']:,})", wall, rss, f"{b['sample_sentences']:,} sampled sentences")


def per_pair(work: Path, name: str, command) -> None:
    langs, _ = langs_and_merges()
    total, peak = 0.0, 0
    (work / name).mkdir(exist_ok=True)
    for lang in langs:
        wall, rss = timed(command(lang), work / name / f"{lang}.log")
        total, peak = total + wall, max(peak, rss)
    report(name, total, peak, f"{len(langs)} pairs, one process each, one after another")


def stage_encode(work: Path) -> None:
    def command(lang):
        files = [f"{s}.{side}" for s in ("train", "dev", "test") for side in (lang, "en")]
        (work / "data/spm" / lang).mkdir(parents=True, exist_ok=True)
        return [str(BIN / "python"), "-m", "hkd.bpe", "encode", "--model", str(work / "data/spm/spm.model"),
                "--inputs", *(str(work / "data/raw" / lang / f) for f in files),
                "--outputs", *(str(work / "data/spm" / lang / f) for f in files)]
    per_pair(work, "encode", command)
    langs, _ = langs_and_merges()
    inputs = [str(work / "data/spm" / lang / f"train.{side}") for lang in langs for side in (lang, "en")]
    wall, rss = timed([str(BIN / "python"), "-m", "hkd.bpe", "dict", "--model", str(work / "data/spm/spm.model"),
                       "--inputs", *inputs, "--langs", *langs, "en", "--output", str(work / "data/dict.txt")],
                      work / "dict.log")
    report("dictionary", wall, rss)


def stage_binarize(work: Path) -> None:
    def command(lang):
        prefix = work / "data/spm" / lang
        return [str(BIN / "fairseq-preprocess"), "--source-lang", lang, "--target-lang", "en",
                "--trainpref", f"{prefix}/train", "--validpref", f"{prefix}/dev", "--testpref", f"{prefix}/test",
                "--destdir", str(work / "data/bin" / lang), "--srcdict", str(work / "data/dict.txt"),
                "--tgtdict", str(work / "data/dict.txt"), "--workers", "1"]
    per_pair(work, "binarize", command)
    size = sum(f.stat().st_size for f in (work / "data/bin").rglob("*") if f.is_file())
    print(f"{'':<28} binarized data: {size / 1e9:.2f} GB", flush=True)


def target_tokens(work: Path) -> dict[str, int]:
    """Target tokens (EOS included) of every pair's training data, from its encoded English side."""
    langs, _ = langs_and_merges()
    tokens = {}
    for lang in langs:
        with open(work / "data/spm" / lang / "train.en", encoding="utf-8") as f:
            tokens[lang] = sum(len(line.split()) + 1 for line in f)
    return tokens


def store_bytes_per_token(folder: Path) -> tuple[float, int]:
    """(bytes per target token, stores) over the finished stores under folder (header.json last)."""
    total_bytes, total_tokens, stores = 0, 0, 0
    for header in folder.rglob("header.json"):
        tokens = json.loads(header.read_text()).get("tokens")
        if not tokens:
            continue
        total_bytes += sum(f.stat().st_size for f in header.parent.iterdir() if f.is_file())
        total_tokens += tokens
        stores += 1
    if not stores:
        raise RuntimeError(f"{folder}: no finished store (header.json with tokens)")
    return total_bytes / total_tokens, stores


def assistants() -> list[list[str]]:
    """The member lists of the assistants with stores: one per distinct cluster of the paper's (the
    student's teachers; the all-languages and random-cluster assistants keep no store)."""
    clusters = yaml.safe_load((ROOT / "config" / "paper_clusters.yaml").read_text())
    distinct = {tuple(sorted(m)) for groups in clusters.values() for m in groups.values()}
    return [list(m) for m in sorted(distinct)]


def paper_sentences() -> dict[str, int]:
    rows = [line.split("\t") for line in (ROOT / "config" / "ted53_languages.tsv").read_text().splitlines()
            if line and not line.startswith(("#", "code"))]
    return {row[0]: round(float(row[2]) * 1000) for row in rows}


def stage_stores(work: Path, results: Path | None, tokens_per_sentence: float) -> None:
    if results is None or not (results / "stores").is_dir():
        print("stores: skipped (give --stores-from a results folder with finished stores)", flush=True)
        return
    if (work / "data/spm").is_dir():
        tokens = target_tokens(work)
        source = "the real-size corpus encoded by the 32k BPE (EOS included)"
    else:  # the encode stage has not run: the paper's sentences x an assumed length
        tokens = {lang: round(n * (tokens_per_sentence + 1)) for lang, n in paper_sentences().items()}
        source = (f"ESTIMATED: the paper's training sentences x {tokens_per_sentence:g} BPE tokens + EOS "
                  "(no encoded real-size corpus under --work: run the encode stage to measure them)")
    teacher_bpt, n_t = store_bytes_per_token(results / "stores" / "teacher")
    assistant_bpt, n_a = store_bytes_per_token(results / "stores" / "assistant")
    units = assistants()
    teacher = sum(tokens.values()) * teacher_bpt
    assistant = sum(tokens[lang] for members in units for lang in members) * assistant_bpt
    print(f"store bytes per target token: teacher {teacher_bpt:.2f} (measured on {n_t} stores), "
          f"assistant {assistant_bpt:.2f} (on {n_a} stores; {results})", flush=True)
    print(f"target tokens of the training data: {sum(tokens.values()):,} "
          f"(largest: {max(tokens, key=tokens.get)} {max(tokens.values()):,}); from {source}", flush=True)
    print("disk plan (top-k stores, k as measured):", flush=True)
    print(f"  teacher stores, 53 languages      {teacher / 1e9:8.2f} GB", flush=True)
    print(f"  assistant stores, {len(units)} assistants   {assistant / 1e9:8.2f} GB "
          f"({sum(len(m) for m in units)} language stores)", flush=True)
    print(f"  together                          {(teacher + assistant) / 1e9:8.2f} GB", flush=True)


def stage_dryrun(work: Path) -> None:
    run = work / "dryrun"
    run.mkdir(exist_ok=True)
    if not (run / "config").exists():
        (run / "config").symlink_to(ROOT / "config")
    base = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--configfile", "config/ted53.yaml"]
    timed(base + ["--cores", "1", "results/clustering/clusters.yaml"], work / "dryrun-clusters.log", cwd=run)
    CPU_SECONDS.clear()  # the set-up is not the dry run
    wall, rss = timed(base + ["-n"], work / "dryrun.log", cwd=run)
    text = (work / "dryrun.log").read_text()
    jobs = re.search(r"^total\s+(\d+)", text, re.M)
    report("dry run, full DAG", wall, rss, f"{jobs.group(1) if jobs else '?'} jobs (clusters checkpoint done)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="a folder for the corpus and data (~10 GB)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=STAGES)
    parser.add_argument("--stores-from", type=Path, help="a results folder with finished stores")
    parser.add_argument("--tokens-per-sentence", type=float, default=25.0,
                        help="stores without an encoded corpus: English BPE tokens a TED sentence (25)")
    parser.add_argument("--train-rows", type=int, default=TED_TRAIN_ROWS, help="smoke runs: fewer train rows")
    parser.add_argument("--vocab-size", type=int, help="smoke runs: a smaller BPE vocabulary than ted53's")
    parser.add_argument("--langs", nargs="+", help="smoke runs: these pairs only (default ted53's 53)")
    args = parser.parse_args(argv)
    OPTIONS.update(train_rows=args.train_rows, vocab_size=args.vocab_size, langs=args.langs)
    args.work.mkdir(parents=True, exist_ok=True)
    work = args.work.resolve()
    for stage in args.stages:
        if stage == "corpus":
            stage_corpus(work)
        elif stage == "stores":
            stage_stores(work, args.stores_from.resolve() if args.stores_from else None, args.tokens_per_sentence)
        else:
            globals()[f"stage_{stage}"](work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
