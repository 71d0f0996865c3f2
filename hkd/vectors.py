"""The language-vectors table: one row of numbers per language, the format every clustering view
is read from and written in.

TSV, header ``lang`` then one column per feature (or dimension), one row per language. Vectors may
also come as a NumPy file holding a {code: vector} mapping (``np.save`` of a dict, read with
allow_pickle; or ``np.savez`` with one array per code). ``read_vectors`` reads all three; errors
(``VectorsError``) name the file and line or key: ragged rows, non-numeric values, NaN or infinite
values, duplicate languages, an empty table. ``write_vectors`` writes the shortest text that reads
back to the same float (or, given ``digits``, that many significant digits), so the same vectors give
a byte-identical file. (A library module: the steps that write tables are hkd.typology, hkd.langvec
and hkd.cluster_languages.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hkd.fileio import write_atomic_text


class VectorsError(ValueError):
    """A language code, feature set or vectors file that cannot be used; the message names it."""


def format_value(x: float) -> str:
    """Shortest text that reads back to the same float; integral values without a decimal point."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 2**53 else repr(float(x))


def write_vectors(
    path: Path, langs: list[str], names: list[str], matrix: np.ndarray, digits: int | None = None
) -> None:
    """Writes a language vectors table (TSV) atomically; same input, byte-identical file.

    Values are written exactly (format_value), or with ``digits`` significant digits (``%.{digits}g``).
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape != (len(langs), len(names)):
        raise VectorsError(f"{path}: matrix shape {matrix.shape} != ({len(langs)}, {len(names)})")
    text = format_value if digits is None else f"{{:.{digits}g}}".format
    lines = ["\t".join(["lang", *names])]
    lines += ["\t".join([lang, *map(text, row)]) for lang, row in zip(langs, matrix)]
    write_atomic_text(path, "\n".join(lines) + "\n")


def _check_vector(where: str, values, width: int | None) -> np.ndarray:
    try:
        vector = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise VectorsError(f"{where}: non-numeric value ({error})") from None
    if vector.ndim != 1:
        raise VectorsError(f"{where}: expected a 1-d vector, got shape {vector.shape}")
    if width is not None and vector.size != width:
        raise VectorsError(f"{where}: {vector.size} values, expected {width} (ragged)")
    if not np.isfinite(vector).all():
        raise VectorsError(f"{where}: NaN or infinite value at position {int(np.argmin(np.isfinite(vector)))}")
    return vector


def read_vectors(path: Path) -> dict[str, np.ndarray]:
    """Reads a language vectors table (.tsv) or a {code: vector} NumPy file (.npy/.npz), in file order."""
    path = Path(path)
    if not path.is_file():
        raise VectorsError(f"{path}: no such file")
    vectors: dict[str, np.ndarray] = {}
    if path.suffix in (".npy", ".npz"):
        if path.suffix == ".npy":
            obj = np.load(path, allow_pickle=True)
            obj = obj.item() if obj.dtype == object and obj.ndim == 0 else obj
            if not isinstance(obj, dict):
                raise VectorsError(f"{path}: expected np.save of a {{code: vector}} dict, got {type(obj).__name__}")
            items = list(obj.items())
        else:
            with np.load(path, allow_pickle=False) as archive:
                items = [(key, archive[key]) for key in archive.files]
        width = None
        for code, values in items:
            if not isinstance(code, str) or not code:
                raise VectorsError(f"{path}: key {code!r} is not a language code")
            vectors[code] = _check_vector(f"{path}: key {code!r}", values, width)
            width = vectors[code].size
    else:
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines or lines[0].split("\t")[0] != "lang":
            raise VectorsError(f"{path}:1: header must start with 'lang' then the feature names")
        width = len(lines[0].split("\t")) - 1
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            code, *fields = line.split("\t")
            where = f"{path}:{number}: language {code!r}"
            if code in vectors:
                raise VectorsError(f"{where}: duplicate language")
            if len(fields) != width:
                raise VectorsError(f"{where}: {len(fields)} values, header has {width} features (ragged)")
            vectors[code] = _check_vector(where, fields, width)
    if not vectors:
        raise VectorsError(f"{path}: no language vectors")
    return vectors


def select(vectors: dict[str, np.ndarray], langs: list[str], source: str) -> np.ndarray:
    """Stacks the vectors of langs (in that order); raises naming every language source lacks."""
    missing = [lang for lang in langs if lang not in vectors]
    if missing:
        raise VectorsError(f"{source}: no vector for language(s) {' '.join(missing)}")
    return np.stack([vectors[lang] for lang in langs])
