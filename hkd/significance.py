"""Paired bootstrap resampling of every system against baseline systems, per language, in BLEU and chrF.

    python -m hkd.significance --scores results/eval/teacher/*.json results/eval/universal/*.json \
        --columns selective_all=results/eval/assistant/all/all hkd=results/eval/student ... \
        --langs kk be ... --references results/data/raw/kk/test.en results/data/raw/be/test.en ... \
        --baselines teacher universal selective_all --tokenize none --samples 1000 --alpha 0.05 \
        --out results/tables/significance.tsv

The systems and their hypotheses are found as hkd.report finds their scores (--scores files and
--columns COLUMN=FOLDER, the same arguments): each score file ``X.json`` of hkd.evaluate has its
hypotheses beside it in ``X.hyp``. --references gives the raw reference text of each language of
--langs, in the same order.

The test is sacreBLEU's own paired bootstrap resampling (``sacrebleu.significance.PairedTest``,
``test_type="bs"``, Koehn 2004 as in Moses' bootstrap-hypothesis-difference-significance.pl): the
same resampled test sets score both systems; the p-value is the share of resamples whose (centred)
absolute difference is at least the observed one. The resampling is seeded (sacreBLEU's
``SACREBLEU_SEED``, default 12345; the seed and the number of resamples are in the signature), so a
rerun gives the same p-values. Each row also has sacreBLEU's bootstrap mean of the system and the
half width of its 95 % confidence interval (the 2.5 % and 97.5 % resample quantiles).

One guard on sacreBLEU 2.6.0: when the two systems score exactly the same (identical hypotheses,
say), every resampled difference is 0 and its p-value is 1 / (samples + 1), "significant". An
observed difference of 0 is no evidence of any difference, so such a row gets p = 1.

--pairs SYSTEM=BASELINE adds tests of one system against one more baseline (the random clusters
against the actual ones, Table 9). Writes one TSV row per (language, system, baseline, metric) for
every system with hypotheses for a language that its baseline also translated: columns lang, system, baseline, metric (BLEU or chrF),
score, baseline_score, delta (score - baseline_score), p, mean, ci95 (the system's), significant
(1 when p < --alpha), signature (sacreBLEU's, with the bootstrap's seed and resamples).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from hkd.fileio import write_atomic_text
from hkd.report import read_score

log = logging.getLogger("hkd.significance")

COLUMNS = ["lang", "system", "baseline", "metric", "score", "baseline_score", "delta", "p", "mean", "ci95",
           "significant", "signature"]


def hypothesis_files(files: list[Path], columns: list[str], langs: list[str]) -> dict[str, dict[str, Path]]:
    """{system: {lang: hypotheses file}}: score files by their "system" and "lang" keys, model folders
    (COLUMN=FOLDER) by their *.json files' "lang"; each score file's hypotheses are beside it (.hyp)."""
    out: dict[str, dict[str, Path]] = {}

    def add(system: str, path: Path, lang: str):
        if lang not in langs:
            raise ValueError(f"{path}: language {lang!r} (key 'lang') is not one of --langs")
        if lang in out.setdefault(system, {}):
            raise ValueError(f"{path}: a second score for system {system!r}, language {lang!r}")
        hyp = path.with_suffix(".hyp")
        if not hyp.is_file():
            raise ValueError(f"{path}: no hypotheses beside it ({hyp})")
        out[system][lang] = hyp

    for path in files:
        result = read_score(path, ("system", "lang"))
        add(result["system"], path, result["lang"])
    for spec in columns:
        name, _, folder = spec.partition("=")
        if not name or not folder or not Path(folder).is_dir():
            raise ValueError(f"--columns: expected COLUMN=FOLDER with an existing folder, got {spec!r}")
        for path in sorted(Path(folder).glob("*.json")):
            add(name, path, read_score(path, ("lang",))["lang"])
    return out


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def paired_bootstrap(baseline: list[str], systems: dict[str, list[str]], refs: list[str], tokenize: str,
                     samples: int) -> tuple[dict[str, str], dict[str, dict[str, dict]]]:
    """sacreBLEU's paired bootstrap of each of `systems` against `baseline` on one test set.

    Returns ({metric: signature}, {system: {metric: {score, baseline_score, p, mean, ci95}}}) for the
    metrics "BLEU" and "chrF"; p is 1 where a system scores exactly as the baseline (see the module's
    docstring)."""
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.significance import PairedTest

    lengths = {len(refs), len(baseline), *(len(h) for h in systems.values())}
    if len(lengths) != 1:
        raise ValueError(f"paired bootstrap: hypotheses and references differ in length ({sorted(lengths)})")
    names = list(systems)
    test = PairedTest([("__baseline__", baseline), *((n, systems[n]) for n in names)],
                      {"BLEU": BLEU(tokenize=tokenize), "chrF": CHRF()}, [refs], test_type="bs",
                      n_samples=samples)
    signatures, scores = test()
    metric_names = {"BLEU": "BLEU", "chrF2": "chrF"}  # sacreBLEU's result keys -> ours
    out: dict[str, dict[str, dict]] = {n: {} for n in names}
    for key, metric in metric_names.items():
        base, *rows = scores[key]
        for name, result in zip(names, rows):
            same = result.score == base.score
            out[name][metric] = {"score": result.score, "baseline_score": base.score,
                                 "p": 1.0 if same else float(result.p_value), "mean": float(result.mean),
                                 "ci95": float(result.ci)}
    return {metric_names[k]: str(v) for k, v in signatures.items()}, out


def significance_rows(hyps: dict[str, dict[str, Path]], refs: dict[str, Path], baselines: list[str],
                      tokenize: str, samples: int, alpha: float,
                      pairs: list[tuple[str, str]] = ()) -> list[list[str]]:
    """The TSV rows (header first): for every language, every system against each of `baselines`,
    then each (system, baseline) of `pairs`."""
    rows = [COLUMNS]
    tests = [(b, [s for s in hyps if s != b]) for b in baselines]
    tests += [(b, [s for s, b2 in pairs if b2 == b]) for b in dict.fromkeys(b for _, b in pairs)]
    for lang, ref_path in refs.items():
        references = read_lines(ref_path)
        for baseline, systems in tests:
            if lang not in hyps.get(baseline, {}):
                if baseline in baselines:
                    log.warning("%s: baseline %s has no hypotheses; not tested against it", lang, baseline)
                continue
            others = {s: read_lines(hyps[s][lang]) for s in systems if lang in hyps.get(s, {})}
            if not others:
                continue
            signatures, results = paired_bootstrap(read_lines(hyps[baseline][lang]), others, references,
                                                   tokenize, samples)
            for system, metrics in results.items():
                for metric, r in metrics.items():
                    rows.append([lang, system, baseline, metric, f"{r['score']:.2f}", f"{r['baseline_score']:.2f}",
                                 f"{r['score'] - r['baseline_score']:.2f}", f"{r['p']:.4f}", f"{r['mean']:.2f}",
                                 f"{r['ci95']:.2f}", str(int(r["p"] < alpha)), signatures[metric]])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scores", type=Path, nargs="+", required=True,
                        help="hkd.evaluate score files (folders among them are left to --columns)")
    parser.add_argument("--columns", nargs="*", default=[], metavar="COLUMN=FOLDER")
    parser.add_argument("--langs", nargs="+", required=True)
    parser.add_argument("--references", type=Path, nargs="+", required=True, help="per language of --langs")
    parser.add_argument("--baselines", nargs="+", required=True, help="the systems every other is tested against")
    parser.add_argument("--tokenize", default="none", help="sacreBLEU tokenizer of BLEU")
    parser.add_argument("--samples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level")
    parser.add_argument("--pairs", nargs="*", default=[], metavar="SYSTEM=BASELINE",
                        help="further tests of one system against one baseline (Table 9: random_t1=cluster_t1)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    if len(args.references) != len(args.langs):
        parser.error(f"--references: {len(args.references)} files for {len(args.langs)} languages")
    if not 0 < args.alpha < 1 or args.samples < 1:
        parser.error("--alpha must be in (0, 1) and --samples at least 1")
    files = [p for p in args.scores if not p.is_dir()]
    hyps = hypothesis_files(files, args.columns, args.langs)
    unknown = [b for b in args.baselines if b not in hyps]
    if unknown:
        raise ValueError(f"--baselines: no hypotheses of {unknown} (systems: {sorted(hyps)})")
    pairs = [tuple(p.partition("=")[::2]) for p in args.pairs]
    bad = [p for p, (a, b) in zip(args.pairs, pairs) if a not in hyps or b not in hyps]
    if bad:
        raise ValueError(f"--pairs: {bad} name systems without hypotheses (systems: {sorted(hyps)})")
    rows = significance_rows(hyps, dict(zip(args.langs, args.references)), args.baselines, args.tokenize,
                             args.samples, args.alpha, pairs)
    write_atomic_text(args.out, "".join("\t".join(r) + "\n" for r in rows))
    significant = sum(r[10] == "1" for r in rows[1:])
    log.info("%d tests, %d significant at p < %g: %s", len(rows) - 1, significant, args.alpha, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
