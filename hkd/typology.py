"""Typological language vectors from URIEL (lang2vec), written as a language-vectors table (hkd.vectors).

Maps the TED talks' ISO 639-1 codes to the ISO 639-3 codes URIEL knows, fetches one lang2vec feature
set and writes a *language vectors table*::

    python -m hkd.typology --langs kk be bn ... --feature-set syntax_knn --out typology.tsv \\
        [--allow-missing impute-mean] [--map ku=kmr]

The table (``lang`` then one column per feature, rows in the order of ``--langs``) is read and
written by hkd.vectors.

Code mapping (``TED_TO_ISO3``): the ISO 639-3 individual language, where URIEL lacks the
macrolanguage: az -> azj, mn -> khk, sq -> als, zh -> cmn, ms -> zlm, fa -> pes, ar -> arb; ku -> kur
and et -> est as in Oncevay et al. 2020 (src/tedlangs.py). A 3-letter code that URIEL knows is taken
as is. A code that maps to nothing URIEL knows is an error naming it: a language is never dropped.

Vectors files keyed otherwise (``codes_of``, ``select_codes``): a language of the config is found in
a vectors file under its own code, its ``TED_TO_ISO3`` code, or the other ISO 639-3 code of the
same language (``OTHER_ISO3``: the macrolanguage where URIEL has the individual language, az ->
aze, zh -> zho, ..., as lang2vec and published language-vector files key them); a file holding two
of them for one language is an error naming both.

``--out-all FILE`` also writes every language URIEL has in the feature set (3,718 in syntax_knn,
keyed by ISO 639-3), the rows hkd.cluster_languages fits the typology SVD on (Oncevay et al.); a language
with a missing value is left out of it, and the log says how many.

Missing values: ``syntax_knn`` (default; 103 kNN-imputed binary syntax features) has none. Raw
``syntax_wals`` marks missing values ``--`` (and is empty for glg, hrv, kaz, slk, srp, zlm). By
default a language with any missing value is an error naming it; ``--allow-missing impute-mean``
fills a missing value with the mean of that feature over the requested languages that have it, drops
features that no requested language has, and logs how many values were imputed per language.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import warnings
from pathlib import Path

import numpy as np
from hkd.vectors import VectorsError, write_vectors

log = logging.getLogger("hkd.typology")

# The 53 TED source languages and English, ISO 639-1 -> an ISO 639-3 code present in URIEL.
# fmt: off
TED_TO_ISO3 = {
    "ar": "arb", "az": "azj", "be": "bel", "bg": "bul", "bn": "ben", "bs": "bos", "cs": "ces",
    "da": "dan", "de": "deu", "el": "ell", "en": "eng", "es": "spa", "et": "est", "eu": "eus",
    "fa": "pes", "fi": "fin", "fr": "fra", "gl": "glg", "he": "heb", "hi": "hin", "hr": "hrv",
    "hu": "hun", "hy": "hye", "id": "ind", "it": "ita", "ja": "jpn", "ka": "kat", "kk": "kaz",
    "ko": "kor", "ku": "kur", "lt": "lit", "mk": "mkd", "mn": "khk", "mr": "mar", "ms": "zlm",
    "my": "mya", "nb": "nob", "nl": "nld", "pl": "pol", "pt": "por", "ro": "ron", "ru": "rus",
    "sk": "slk", "sl": "slv", "sq": "als", "sr": "srp", "sv": "swe", "ta": "tam", "th": "tha",
    "tr": "tur", "uk": "ukr", "ur": "urd", "vi": "vie", "zh": "cmn",
}
# fmt: on
# The other ISO 639-3 code of a TED language: the macrolanguage where TED_TO_ISO3 names an individual
# language, the individual language where it names a macrolanguage (et: est -> ekk).
# fmt: off
OTHER_ISO3 = {
    "ar": "ara", "az": "aze", "et": "ekk", "fa": "fas", "mn": "mon", "ms": "msa", "nb": "nor",
    "sq": "sqi", "zh": "zho",
}
# fmt: on
MISSING_POLICIES = ("error", "impute-mean")




def _lang2vec():
    """Imports lang2vec lazily (slow, and it warns about pkg_resources); only this module needs it.

    lang2vec installs a script ``bin/lang2vec.py``; run from that folder (``.venv/bin/pytest`` puts
    it first on sys.path) the script shadows the package, so such folders are skipped here.
    """
    shadowing = [p for p in sys.path if os.path.isfile(os.path.join(p or ".", "lang2vec.py"))]
    saved = list(sys.path)
    try:
        sys.path[:] = [p for p in sys.path if p not in shadowing]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import lang2vec.lang2vec as l2v
    finally:
        sys.path[:] = saved
    return l2v


def unknown_codes(codes: list[str], overrides: dict[str, str] | None = None) -> list[str]:
    """The codes that map to no language URIEL knows (see ``to_iso3``). Cheap for the codes of
    ``TED_TO_ISO3``: lang2vec (seconds to load) is asked only about the others."""
    iso3 = {code: (overrides or {}).get(code) or TED_TO_ISO3.get(code) or code for code in codes}
    doubtful = [code for code in codes if iso3[code] not in TED_TO_ISO3.values()]
    if not doubtful:
        return []
    known = _lang2vec().URIEL_LANGUAGES
    return [code for code in doubtful if iso3[code] not in known]


def to_iso3(codes: list[str], overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Maps each code to an ISO 639-3 code in URIEL; raises naming every code that cannot be mapped."""
    l2v = _lang2vec()
    mapping, bad = {}, []
    for code in codes:
        iso3 = (overrides or {}).get(code) or TED_TO_ISO3.get(code) or code
        if iso3 not in l2v.URIEL_LANGUAGES:
            bad.append(f"{code} (-> {iso3})" if iso3 != code else code)
        mapping[code] = iso3
    if bad:
        raise VectorsError(
            f"language code(s) not in URIEL: {', '.join(bad)}; add a mapping with --map CODE=ISO3 "
            "(lang2vec.URIEL_LANGUAGES lists the ISO 639-3 codes URIEL knows)"
        )
    return mapping


def uriel_features(
    codes: list[str], feature_set: str = "syntax_knn", missing: str = "error", overrides: dict[str, str] | None = None
) -> tuple[list[str], np.ndarray]:
    """Returns (feature names, matrix [len(codes), n_features]) for one lang2vec feature set."""
    if missing not in MISSING_POLICIES:
        raise VectorsError(f"unknown missing-value policy {missing!r}; choose from {MISSING_POLICIES}")
    if len(set(codes)) != len(codes):
        raise VectorsError(f"languages given more than once: {sorted({c for c in codes if codes.count(c) > 1})}")
    l2v = _lang2vec()
    if feature_set not in l2v.FEATURE_SETS_DICT or feature_set == "learned":
        raise VectorsError(f"unknown or unsupported lang2vec feature set {feature_set!r}")
    iso3 = to_iso3(codes, overrides)
    table = l2v.get_features([iso3[c] for c in codes], feature_set, header=True)
    names = [str(n) for n in table["CODE"]]
    rows = [[math.nan if v == "--" else float(v) for v in table[iso3[c]]] for c in codes]
    matrix = np.array(rows, dtype=float).reshape(len(codes), len(names))
    holes = np.isnan(matrix)
    if holes.any():
        counts = {c: int(n) for c, n in zip(codes, holes.sum(axis=1)) if n}
        listing = ", ".join(f"{c} ({n}/{len(names)})" for c, n in counts.items())
        if missing == "error":
            raise VectorsError(
                f"{feature_set} has missing values for: {listing}; use syntax_knn or " "--allow-missing impute-mean"
            )
        empty = holes.all(axis=0)
        if empty.any():
            log.warning("dropping %d features that no requested language has", int(empty.sum()))
            names = [n for n, e in zip(names, empty) if not e]
            matrix, holes = matrix[:, ~empty], holes[:, ~empty]
        means = np.nanmean(matrix, axis=0)
        matrix = np.where(holes, means[None, :], matrix)
        log.warning(
            "imputed %d of %d values with the feature mean: %s",
            int(holes.sum()),
            matrix.size,
            ", ".join(f"{c} {int(n)}" for c, n in zip(codes, holes.sum(axis=1)) if n),
        )
        for c, n in zip(codes, holes.sum(axis=1)):
            if n == len(names):
                log.warning("%s has no value of its own in %s: its vector is the mean", c, feature_set)
    return names, matrix


def codes_of(lang: str) -> list[str]:
    """The codes a language may be keyed by in a vectors file: its own, then its ISO 639-3 codes."""
    return list(dict.fromkeys(c for c in (lang, TED_TO_ISO3.get(lang), OTHER_ISO3.get(lang)) if c))


def key_of(vectors: dict, lang: str, source: str) -> str | None:
    """The key of `lang` in `vectors` (see codes_of); None when there is none; two is an error."""
    found = [code for code in codes_of(lang) if code in vectors]
    if len(found) > 1:
        raise VectorsError(f"{source}: language {lang!r} is there under {' and '.join(found)}: keep one")
    return found[0] if found else None


def select_codes(vectors: dict[str, np.ndarray], langs: list[str], source: str) -> np.ndarray:
    """``select`` through the code map: each language under any of its codes (codes_of)."""
    keys = {lang: key_of(vectors, lang, source) for lang in langs}
    missing = [lang for lang, key in keys.items() if key is None]
    if missing:
        tried = "; ".join(f"{lang}: {', '.join(codes_of(lang))}" for lang in missing)
        raise VectorsError(f"{source}: no vector for language(s) {' '.join(missing)} (codes tried: {tried})")
    return np.stack([vectors[keys[lang]] for lang in langs])


def all_uriel(feature_set: str) -> tuple[list[str], list[str], np.ndarray]:
    """(ISO 639-3 codes, feature names, matrix) of every URIEL language with no missing value."""
    l2v = _lang2vec()
    if feature_set not in l2v.FEATURE_SETS_DICT or feature_set == "learned":
        raise VectorsError(f"unknown or unsupported lang2vec feature set {feature_set!r}")
    codes = sorted(l2v.URIEL_LANGUAGES)
    table = l2v.get_features(codes, feature_set, header=True)
    names = [str(n) for n in table["CODE"]]
    complete = [c for c in codes if "--" not in table[c]]
    if len(complete) < len(codes):
        log.warning("%s: %d of %d URIEL languages have a missing value: left out of the fitting table",
                    feature_set, len(codes) - len(complete), len(codes))
    return complete, names, np.array([[float(v) for v in table[c]] for c in complete], dtype=float)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--langs", nargs="+", required=True, help="language codes (TED ISO 639-1)")
    parser.add_argument("--feature-set", default="syntax_knn", help="lang2vec feature set (default syntax_knn)")
    parser.add_argument(
        "--allow-missing",
        choices=MISSING_POLICIES,
        default="error",
        help="what to do with missing ('--') values (default: error)",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="CODE=ISO3",
        help="override the ISO 639-3 code of one language (repeatable)",
    )
    parser.add_argument("--out", type=Path, required=True, help="language vectors table (TSV)")
    parser.add_argument("--out-all", type=Path, help="also every URIEL language of the feature set (TSV)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    overrides = {}
    for item in args.map:
        code, sep, iso3 = item.partition("=")
        if not sep or not code or not iso3:
            raise VectorsError(f"--map {item!r}: expected CODE=ISO3")
        overrides[code] = iso3
    names, matrix = uriel_features(args.langs, args.feature_set, args.allow_missing, overrides)
    write_vectors(args.out, args.langs, names, matrix)
    log.info("wrote %d languages x %d %s features to %s", len(args.langs), len(names), args.feature_set, args.out)
    if args.out_all:
        codes, all_names, all_matrix = all_uriel(args.feature_set)
        if all_names != names:
            raise VectorsError(f"{args.feature_set}: the features of all languages differ from those written")
        write_vectors(args.out_all, codes, all_names, all_matrix)
        log.info("wrote all %d URIEL languages x %d features to %s", len(codes), len(names), args.out_all)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except VectorsError as error:
        print(f"hkd.typology: error: {error}", file=sys.stderr)
        sys.exit(1)
