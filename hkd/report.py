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


def read_score(path: Path, keys: tuple[str, ...]) -> dict:
    """The given keys of one hkd.evaluate JSON file, "bleu" as a float; errors name the file and key."""
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
    if "bleu" in out:
        value = out["bleu"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{path}: key 'bleu' is not a number: {value!r}")
        out["bleu"] = float(value)
    return out


def load_scores(paths: list[Path], langs: list[str]) -> dict[str, dict[str, float]]:
    """{system: {lang: bleu}} from hkd.evaluate's JSON files."""
    table: dict[str, dict[str, float]] = {}
    for path in paths:
        result = read_score(path, ("system", "lang", "bleu"))
        system, lang = result["system"], result["lang"]
        if lang not in langs:
            raise ValueError(f"{path}: language {lang!r} (key 'lang') is not one of --langs")
        if lang in table.setdefault(system, {}):
            raise ValueError(f"{path}: a second score for system {system!r}, language {lang!r}")
        table[system][lang] = result["bleu"]
    return table


def assign_columns(table: dict[str, dict[str, float]], columns: list[str],
                   langs: list[str] | None = None) -> dict[str, dict[str, float]]:
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
            result = read_score(path, ("lang", "bleu"))
            lang = result["lang"]
            if langs is not None and lang not in langs:
                raise ValueError(f"{path}: language {lang!r} (key 'lang') is not one of --langs")
            if lang in out.setdefault(name, {}):
                raise ValueError(f"{path}: column {name!r} already has a score for {lang!r}")
            out[name][lang] = result["bleu"]
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


def to_markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines) + "\n"


def full_markdown(rows: list[list[str]], places: list[list[str]]) -> str:
    """The BLEU table, then each places table under its heading."""
    titles = {"without_hkd": "without the student (Table 7)", "with_hkd": "with the student hkd (Table 8)"}
    parts = ["## BLEU per language (Table 6)\n\n" + to_markdown(rows)]
    for name in dict.fromkeys(r[0] for r in places[1:]):
        table = [places[0][1:]] + [r[1:] for r in places[1:] if r[0] == name]
        parts.append(f"## Share of first and second places per training-size band, {titles.get(name, name)}\n\n"
                     "Percent of the 1st and 2nd places of the band's languages; each row sums to 100.\n\n"
                     + to_markdown(table))
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    band_labels(args.bands)  # checks the bounds before any work
    files = [p for p in args.scores if not p.is_dir()]  # folders are read through --columns
    table = assign_columns(load_scores(files, args.langs), args.columns, args.langs)
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
    write_atomic_text(args.out_tsv, "".join("\t".join(r) + "\n" for r in rows))
    write_atomic_text(args.out_md, full_markdown(rows, places))
    if args.out_places:
        write_atomic_text(args.out_places, "".join("\t".join(r) + "\n" for r in places))
    log.info("\n%s", full_markdown(rows, places))
    return 0


if __name__ == "__main__":
    sys.exit(main())
