"""The BLEU tables: one row per language, one column per system, with the training size; and the
share of first and second places per resource band (the paper's Tables 6, 7 and 8).

    python -m hkd.report --scores results/eval/*/*.json --counts results/data/raw/counts.tsv \
        --columns hkd=results/eval/student cluster_t1=results/eval/assistant/typology/c1 ... \
        --langs kk be ... --bands 10000 20000 --out-tsv results/tables/bleu.tsv \
        --out-md results/tables/bleu.md --out-places results/tables/places.tsv

Reads: each score file is one (system, language) result written by hkd.evaluate (a JSON object
with the keys "system", "lang" and "bleu"). A model folder (an assistant's scores on its languages,
or the student's on all) fills a table column through --columns COLUMN=FOLDER, from the folder's
*.json files (their "system" key is not used); folders among --scores are left to --columns
(Snakemake lists them as inputs there). --counts is hkd.extract's counts file: the training size of a
language is the "kept" column of its "train" row.

Writes: --out-tsv, the BLEU table: the languages in config order (low to high resource in the
paper's order), the number of training pairs after filtering, each system's BLEU, and an average
row. --out-md, the same table in markdown followed, under headings, by the places tables.
--out-places (optional), the places tables as TSV: columns table (without_hkd, with_hkd), band,
languages, then one column per system, in percent with 2 decimals ("NA" where the system is left
out of that table, or where no place was given in the band).

Places: the languages are put into bands by training size; --bands gives the ascending upper
bounds (default 10000 20000: "<=10k", "10k-20k", ">20k"; a size equal to a bound belongs to the
band it closes). For each language the systems with a score for it are ranked by BLEU, higher is
better, comparing the scores as the table shows them (rounded to 2 decimals). Ties follow
competition ranking ("1, 1, 3"): a system's place is 1 + the number of systems with a strictly
higher score, so systems tied for first all get a first and nobody gets a second, and systems tied
for second all get a second. A system's share in a band is its firsts plus seconds there divided by
all the firsts and seconds given there, so each band's row sums to 100%. "languages" counts the
languages of the band that were ranked. Table 7 (without_hkd) leaves the student "hkd" out; Table 8
(with_hkd) includes it and is written only when an "hkd" column is there. A system without a score
for a language does not compete for it, and a language without any score is not ranked; both are
logged.

--significance (optional), hkd.significance's TSV: each language's cell of the markdown tables is
followed by its marks, "+U" or "-U" where the system is significantly above or below the universal
model ("T" the teacher, "S" selective_all), and the tests' sacreBLEU signatures follow the tables.
--out-chrf-tsv (optional): the same table in chrF (the score files' "chrf" key), also in the markdown.
Columns named random_tN (the assistants of random clusters with the sizes of type N,
hkd.random_clusters) stay out of Tables 6-8: Table 9 (markdown, and --out-random-tsv) puts each
beside cluster_tN per language, with the difference.

Every (system, language) pair of the inputs must be there exactly once: a duplicate or a score for
a language outside --langs is an error, and so is a language of --langs without a training size.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from hkd.fileio import write_atomic_text

log = logging.getLogger("hkd.report")

# Column order of the systems, as in the paper's Table 6; other systems follow, sorted.
SYSTEM_ORDER = ["teacher", "universal", "selective_all", "cluster_t1", "cluster_t2", "cluster_t3",
                "cluster_t4", "hkd"]
STUDENT = "hkd"  # the system left out of Table 7 and included in Table 8
DEFAULT_BANDS = [10000, 20000]
METRICS = ("bleu", "chrf")  # the score keys of hkd.evaluate's files
# significance marks: a baseline's letter, + or - when a system is significantly above or below it
BASELINE_MARKS = {"teacher": "T", "universal": "U", "selective_all": "S"}


def read_score(path: Path, keys: tuple[str, ...]) -> dict:
    """The given keys of one hkd.evaluate JSON file, the metrics as floats; errors name the file and key."""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not a JSON file ({e})") from e
    if not isinstance(result, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(result).__name__}")
    for key in keys:
        if key not in result:
            raise ValueError(f"{path}: no key {key!r}")
    out = {key: result[key] for key in keys}
    for metric in METRICS:
        if metric in out:
            value = out[metric]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{path}: key {metric!r} is not a number: {value!r}")
            out[metric] = float(value)
    return out


def load_scores(paths: list[Path], langs: list[str], metric: str = "bleu") -> dict[str, dict[str, float]]:
    """{system: {lang: score}} from hkd.evaluate's JSON files, the score named `metric`."""
    table: dict[str, dict[str, float]] = {}
    for path in paths:
        result = read_score(path, ("system", "lang", metric))
        system, lang = result["system"], result["lang"]
        if lang not in langs:
            raise ValueError(f"{path}: language {lang!r} (key 'lang') is not one of --langs")
        if lang in table.setdefault(system, {}):
            raise ValueError(f"{path}: a second score for system {system!r}, language {lang!r}")
        table[system][lang] = result[metric]
    return table


def assign_columns(table: dict[str, dict[str, float]], columns: list[str],
                   langs: list[str] | None = None, metric: str = "bleu") -> dict[str, dict[str, float]]:
    """Fill table columns from model folders: `COLUMN=FOLDER` puts the scores of the model evaluated in
    FOLDER (one JSON per language) in COLUMN; several folders fill one column (one per cluster), and
    a language may come from one folder only per column. With `langs`, a score for another language
    is an error."""
    out = {k: dict(v) for k, v in table.items()}
    for spec in columns:
        name, _, folder = spec.partition("=")
        if not name or not folder:
            raise ValueError(f"--columns: expected COLUMN=FOLDER, got {spec!r}")
        if not Path(folder).is_dir():
            raise ValueError(f"--columns {spec}: {folder} is not a folder")
        paths = sorted(Path(folder).glob("*.json"))
        if not paths:
            raise ValueError(f"--columns {spec}: no score files (*.json) in {folder}")
        for path in paths:
            result = read_score(path, ("lang", metric))
            lang = result["lang"]
            if langs is not None and lang not in langs:
                raise ValueError(f"{path}: language {lang!r} (key 'lang') is not one of --langs")
            if lang in out.setdefault(name, {}):
                raise ValueError(f"{path}: column {name!r} already has a score for {lang!r}")
            out[name][lang] = result[metric]
    return out


def train_sizes(counts: Path) -> dict[str, int]:
    """{lang: training pairs kept} from the "train" rows of hkd.extract's counts file."""
    with open(counts, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        missing = [k for k in ("lang", "split", "kept") if k not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{counts}: no column {missing[0]!r} in the header")
        sizes = {}
        for row in reader:
            if row["split"] != "train":
                continue
            try:
                sizes[row["lang"]] = int(row["kept"])
            except (TypeError, ValueError) as e:
                raise ValueError(f"{counts}, line {reader.line_num}: column 'kept' is not an integer: "
                                 f"{row['kept']!r}") from e
    return sizes


def systems_in_order(systems) -> list[str]:
    known = [s for s in SYSTEM_ORDER if s in systems]
    return known + sorted(set(systems) - set(known))


def build_rows(scores: dict[str, dict[str, float]], sizes: dict[str, int], langs: list[str]) -> list[list[str]]:
    systems = systems_in_order(scores)
    rows = [["lang", "train_pairs", *systems]]
    for lang in langs:
        rows.append([lang, str(sizes.get(lang, "")),
                     *(f"{scores[s][lang]:.2f}" if lang in scores[s] else "NA" for s in systems)])
    averages = []
    for s in systems:
        values = [scores[s][lang] for lang in langs if lang in scores[s]]
        averages.append(f"{sum(values) / len(values):.2f}" if values else "NA")
    rows.append(["average", str(sum(sizes.get(lang, 0) for lang in langs)), *averages])
    return rows


def readable(n: int) -> str:
    """10000 -> "10k", 1500 -> "1.5k", 2000000 -> "2M", 750 -> "750"."""
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 1000 and n % 100 == 0:
        return f"{n / 1000:g}k"
    return str(n)


def band_labels(bounds: list[int]) -> list[str]:
    """Labels of the bands closed by the ascending upper bounds, plus the open band above the last:
    [10000, 20000] -> ["<=10k", "10k-20k", ">20k"]."""
    if not bounds or any(b < 0 for b in bounds) or any(a >= b for a, b in zip(bounds, bounds[1:])):
        raise ValueError(f"--bands: expected strictly ascending non-negative upper bounds, got {bounds}")
    names = [readable(b) for b in bounds]
    return ([f"<={names[0]}"] + [f"{a}-{b}" for a, b in zip(names, names[1:])] + [f">{names[-1]}"])


def band_index(size: int, bounds: list[int]) -> int:
    """The band of a training size: the first whose upper bound is >= size (10000 is in "<=10k")."""
    return bisect.bisect_left(bounds, size)


def competition_ranks(bleu: dict[str, float]) -> dict[str, int]:
    """{system: place}, 1 = best; a system's place is 1 + the number of systems with a strictly higher
    score, the scores rounded to 2 decimals as the table shows them ({a: 5, b: 5, c: 3} -> 1, 1, 3)."""
    shown = {s: round(v, 2) for s, v in bleu.items()}
    return {s: 1 + sum(other > v for other in shown.values()) for s, v in shown.items()}


@dataclass
class BandPlaces:
    """One row of a places table."""
    label: str
    languages: list[str] = field(default_factory=list)  # ranked languages of the band
    unranked: list[str] = field(default_factory=list)  # languages of the band without any score
    places: dict[str, int] = field(default_factory=dict)  # {system: firsts + seconds}

    def shares(self) -> dict[str, float] | None:
        """{system: percent of the firsts and seconds of the band}; None when none were given."""
        total = sum(self.places.values())
        return {s: 100 * n / total for s, n in self.places.items()} if total else None


def place_shares(scores: dict[str, dict[str, float]], sizes: dict[str, int], langs: list[str],
                 bounds: list[int], systems: list[str]) -> list[BandPlaces]:
    """Per band of training size, how often each of `systems` came first or second among those
    with a score for a language (competition ranking, see competition_ranks)."""
    bands = [BandPlaces(label, places={s: 0 for s in systems}) for label in band_labels(bounds)]
    for lang in langs:
        if lang not in sizes:
            raise ValueError(f"no training size for language {lang!r}")
        band = bands[band_index(sizes[lang], bounds)]
        bleu = {s: scores[s][lang] for s in systems if lang in scores.get(s, {})}
        if not bleu:
            band.unranked.append(lang)
            continue
        band.languages.append(lang)
        for system, place in competition_ranks(bleu).items():
            if place <= 2:
                band.places[system] += 1
    return bands


def missing_scores(scores: dict[str, dict[str, float]], langs: list[str]) -> dict[str, list[str]]:
    """{lang: systems of the table without a score for it}, for the languages that miss any."""
    systems = systems_in_order(scores)
    out = {lang: [s for s in systems if lang not in scores[s]] for lang in langs}
    return {lang: missing for lang, missing in out.items() if missing}


def places_rows(tables: dict[str, list[BandPlaces]], systems: list[str]) -> list[list[str]]:
    """The places tables as rows: table, band, languages, one percentage per system."""
    rows = [["table", "band", "languages", *systems]]
    for name, bands in tables.items():
        for band in bands:
            shares = band.shares()
            cells = [f"{shares[s]:.2f}" if shares is not None and s in shares else "NA" for s in systems]
            rows.append([name, band.label, str(len(band.languages)), *cells])
    return rows


def place_tables(scores: dict[str, dict[str, float]], sizes: dict[str, int], langs: list[str],
                 bounds: list[int]) -> dict[str, list[BandPlaces]]:
    """Table 7 (without_hkd) and, when the student has scores, Table 8 (with_hkd)."""
    systems = systems_in_order(scores)
    tables = {"without_hkd": place_shares(scores, sizes, langs, bounds, [s for s in systems if s != STUDENT])}
    if STUDENT in scores:
        tables["with_hkd"] = place_shares(scores, sizes, langs, bounds, systems)
    return tables


def read_significance(path: Path) -> tuple[dict[tuple[str, str, str], list[tuple[str, float, bool]]], dict[str, str]]:
    """hkd.significance's TSV as ({(lang, system, metric): [(baseline, delta, significant)]},
    {metric: sacreBLEU signature})."""
    tests: dict[tuple[str, str, str], list[tuple[str, float, bool]]] = {}
    signatures: dict[str, str] = {}
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        need = ["lang", "system", "baseline", "metric", "delta", "significant", "signature"]
        missing = [k for k in need if k not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: no column {missing[0]!r} in the header")
        for row in reader:
            try:
                delta, significant = float(row["delta"]), row["significant"] == "1"
            except ValueError as e:
                raise ValueError(f"{path}, line {reader.line_num}: column 'delta' is not a number") from e
            tests.setdefault((row["lang"], row["system"], row["metric"]), []).append(
                (row["baseline"], delta, significant))
            signatures.setdefault(row["metric"], row["signature"])
    return tests, signatures


def marks(tests: list[tuple[str, float, bool]]) -> str:
    """"+U -S": significantly above the universal model, below selective_all (the significant tests only)."""
    out = []
    for baseline, delta, significant in tests:
        if significant and delta != 0:
            out.append(("+" if delta > 0 else "-") + BASELINE_MARKS.get(baseline, baseline))
    return " ".join(out)


def marked_rows(rows: list[list[str]], tests: dict, metric: str) -> list[list[str]]:
    """The table's rows with each language's cells followed by their significance marks."""
    systems = rows[0][2:]
    out = [rows[0]]
    for row in rows[1:]:
        cells = [f"{value} {marks(tests.get((row[0], s, metric), []))}".rstrip() for s, value in zip(systems, row[2:])]
        out.append(row[:2] + cells)
    return out


def significance_legend(signatures: dict[str, str], alpha_note: str = "p < 0.05") -> str:
    letters = ", ".join(f"{v} {k}" for k, v in BASELINE_MARKS.items())
    lines = [f"Marks: +X / -X, significantly above / below baseline X ({letters}) by sacreBLEU's paired "
             f"bootstrap resampling ({alpha_note}; results/tables/significance.tsv has every test, its p "
             "and 95 % interval)."]
    lines += [f"{m} signature: `{sig}`" for m, sig in sorted(signatures.items())]
    return "\n\n".join(lines) + "\n"


RANDOM_PREFIX, ACTUAL_PREFIX = "random_t", "cluster_t"  # Table 9: random_tN against cluster_tN


def split_random(table: dict[str, dict[str, float]]) -> tuple[dict, dict]:
    """(the systems of Tables 6-8, the random clusters' columns of Table 9)."""
    random = {s: v for s, v in table.items() if s.startswith(RANDOM_PREFIX)}
    return {s: v for s, v in table.items() if s not in random}, random


def random_rows(table: dict[str, dict[str, float]], langs: list[str], tests: dict | None = None) -> list[list[str]]:
    """Table 9: per language with a random cluster, for each random_tN its actual cluster_tN's BLEU, the
    random one's and the difference (random - actual, with the significance mark of the paired test
    against cluster_tN when `tests` has it); an average row over the languages with both."""
    tests = tests or {}
    randoms = sorted((s for s in table if s.startswith(RANDOM_PREFIX)), key=lambda s: s[len(RANDOM_PREFIX):])
    header = ["lang"]
    for r in randoms:
        actual = ACTUAL_PREFIX + r[len(RANDOM_PREFIX):]
        header += [actual, r, f"delta_t{r[len(RANDOM_PREFIX):]}"]
    rows = [header]
    sums = {r: [] for r in randoms}
    for lang in langs:
        if not any(lang in table[r] for r in randoms):
            continue
        row = [lang]
        for r in randoms:
            actual = table.get(ACTUAL_PREFIX + r[len(RANDOM_PREFIX):], {})
            if lang in table[r] and lang in actual:
                delta = table[r][lang] - actual[lang]
                sums[r].append((actual[lang], table[r][lang]))
                mark = [t for t in tests.get((lang, r, "BLEU"), []) if t[0] == ACTUAL_PREFIX + r[len(RANDOM_PREFIX):]]
                row += [f"{actual[lang]:.2f}", f"{table[r][lang]:.2f}",
                        f"{delta:.2f}" + ("*" if mark and mark[0][2] else "")]
            else:
                row += [f"{actual[lang]:.2f}" if lang in actual else "NA",
                        f"{table[r][lang]:.2f}" if lang in table[r] else "NA", "NA"]
        rows.append(row)
    average = ["average"]
    for r in randoms:
        pairs = sums[r]
        if pairs:
            a, b = (sum(x) / len(pairs) for x in zip(*pairs))
            average += [f"{a:.2f}", f"{b:.2f}", f"{b - a:.2f}"]
        else:
            average += ["NA"] * 3
    return rows + [average]


def to_markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines) + "\n"


def full_markdown(rows: list[list[str]], places: list[list[str]], chrf_rows: list[list[str]] | None = None,
                  significance: tuple[dict, dict[str, str]] | None = None,
                  table9: list[list[str]] | None = None) -> str:
    """The BLEU table (with significance marks), the chrF table, each places table under its heading,
    then Table 9 (random against actual clusters)."""
    titles = {"without_hkd": "without the student (Table 7)", "with_hkd": "with the student hkd (Table 8)"}
    tests, signatures = significance or ({}, {})
    parts = ["## BLEU per language (Table 6)\n\n" + to_markdown(marked_rows(rows, tests, "BLEU"))]
    if chrf_rows:
        parts.append("## chrF per language\n\n" + to_markdown(marked_rows(chrf_rows, tests, "chrF")))
    if significance:
        parts.append(significance_legend(signatures))
    for name in dict.fromkeys(r[0] for r in places[1:]):
        table = [places[0][1:]] + [r[1:] for r in places[1:] if r[0] == name]
        parts.append(f"## Share of first and second places per training-size band, {titles.get(name, name)}\n\n"
                     "Percent of the 1st and 2nd places of the band's languages; each row sums to 100.\n\n"
                     + to_markdown(table))
    if table9 and len(table9[0]) > 1:
        parts.append("## Random against actual clusters (Table 9)\n\nBLEU of the assistant of each language's "
                     "actual cluster of type N (cluster_tN) and of its random cluster with the sizes of type N "
                     "(random_tN); delta = random - actual, * where the paired bootstrap finds it significant.\n\n"
                     + to_markdown(table9))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scores", type=Path, nargs="+", required=True)
    parser.add_argument("--columns", nargs="*", default=[], metavar="COLUMN=FOLDER",
                        help="table columns filled from model folders (the assistants serving clusters, "
                             "the student as hkd=FOLDER)")
    parser.add_argument("--counts", type=Path, required=True, help="hkd.extract's counts file")
    parser.add_argument("--langs", nargs="+", required=True)
    parser.add_argument("--bands", type=int, nargs="+", default=DEFAULT_BANDS, metavar="UPPER",
                        help="ascending upper bounds of the training-size bands (default: 10000 20000)")
    parser.add_argument("--out-tsv", type=Path, required=True)
    parser.add_argument("--out-md", type=Path, required=True)
    parser.add_argument("--out-places", type=Path, help="the places tables as TSV")
    parser.add_argument("--significance", type=Path, help="hkd.significance's TSV: marks in the markdown tables")
    parser.add_argument("--out-chrf-tsv", type=Path, help="the chrF table (the score files' 'chrf'), as TSV")
    parser.add_argument("--out-random-tsv", type=Path, help="Table 9 (random_tN against cluster_tN), as TSV")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    band_labels(args.bands)  # checks the bounds before any work
    files = [p for p in args.scores if not p.is_dir()]  # folders are read through --columns
    table, random = split_random(assign_columns(load_scores(files, args.langs), args.columns, args.langs))
    sizes = train_sizes(args.counts)
    unsized = [lang for lang in args.langs if lang not in sizes]
    if unsized:
        raise ValueError(f"{args.counts}: no 'train' row (column 'kept') for languages {unsized}")
    for lang, missing in missing_scores(table, args.langs).items():
        log.warning("%s: no score from %s; they do not compete for its places", lang, ", ".join(missing))
    tables = place_tables(table, sizes, args.langs, args.bands)
    for name, bands in tables.items():
        for band in bands:
            if band.unranked:
                log.warning("%s, band %s: no system has a score for %s; not ranked", name, band.label,
                            ", ".join(band.unranked))
            if band.shares() is None:
                log.warning("%s, band %s: no ranked language; its shares are NA", name, band.label)
    rows = build_rows(table, sizes, args.langs)
    places = places_rows(tables, systems_in_order(table))
    chrf_rows = None
    if args.out_chrf_tsv:
        chrf = assign_columns(load_scores(files, args.langs, "chrf"), args.columns, args.langs, "chrf")
        chrf_rows = build_rows(split_random(chrf)[0], sizes, args.langs)
        write_atomic_text(args.out_chrf_tsv, "".join("\t".join(r) + "\n" for r in chrf_rows))
    significance = read_significance(args.significance) if args.significance else None
    table9 = random_rows({**table, **random}, args.langs, significance[0] if significance else None) if random else None
    if args.out_random_tsv:
        write_atomic_text(args.out_random_tsv, "".join("\t".join(r) + "\n" for r in (table9 or [["lang"]])))
    markdown = full_markdown(rows, places, chrf_rows, significance, table9)
    write_atomic_text(args.out_tsv, "".join("\t".join(r) + "\n" for r in rows))
    write_atomic_text(args.out_md, markdown)
    if args.out_places:
        write_atomic_text(args.out_places, "".join("\t".join(r) + "\n" for r in places))
    log.info("\n%s", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
