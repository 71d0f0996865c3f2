"""Get the TED talks corpus (Qi et al. 2018) into one canonical on-disk form.

The canonical form is a directory holding ``all_talks_train.tsv``, ``all_talks_dev.tsv`` and
``all_talks_test.tsv``: tab-separated, a header, first column ``talk_name``, then one column per
language code (``en es pt-br fr ...``), ``__NULL__`` where a translation is missing. The text is
Moses-tokenised and holds quote characters: read and write it with quoting disabled
(``csv.QUOTE_NONE`` / pandas ``quoting=3``, see :func:`read_tsv`); nothing here ever adds quotes.

Commands::

    python -m hkd.corpus fetch --url URL --out data/ted_talks.tar.gz [--sha256 HEX]
    python -m hkd.corpus unpack --archive data/ted_talks.tar.gz --out-dir data/ted
    python -m hkd.corpus fetch-mirror --out-dir data/ted \\
        --base-url https://huggingface.co/datasets/neulab/ted_multi/resolve/refs%2Fconvert%2Fparquet
    python -m hkd.corpus from-parquet --parquet-dir data/ted/parquet --out-dir data/ted
    python -m hkd.corpus local --path /some/ted_talks.tar.gz|TSV_DIR|PARQUET_DIR --out-dir data/ted

``unpack``, ``fetch-mirror``, ``from-parquet`` and ``local`` take ``--langs CODE ...``: the language
columns the run needs (the workflow passes its languages, merge sources and target), checked against
the corpus header as soon as it is known, so that an unknown code fails here, naming the code and
the file, and not hours later. A local path may start with ``~``.

TSVs from an archive or a local folder are read by the one corpus reader (:mod:`hkd.tsv`: a UTF-8
byte-order mark and CRLF line ends accepted; bytes that are not UTF-8, CR-only line ends and ragged
rows refused, naming the file, line and byte) and written in the canonical form: no byte-order mark,
LF line ends.

``fetch`` downloads to ``OUT.part``, resumes with ``Range`` requests, checks the file's magic bytes
(gzip) and an optional sha256, and only then renames to ``OUT``. The original URL (phontron.com) now
serves an HTML page: use the parquet mirror (``corpus.source: mirror`` in the config) instead.

Columns written from the parquet mirror: ``talk_name``, then the language codes seen anywhere in the
mirror (all splits together, so the three files share one header), in the original TED column order
(:data:`TED_LANGUAGES`); codes outside that list follow, sorted. With all 60 languages present the
header is exactly the original one.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import http.client
import itertools
import logging
import os
import re
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hkd.fileio import atomic_outputs
from hkd.tsv import TsvError, iter_rows

log = logging.getLogger("hkd.corpus")

NULL = "__NULL__"
SPLIT_FILES = {s: f"all_talks_{s}.tsv" for s in ("train", "dev", "test")}
MIRROR_SPLITS = {"train": "train", "validation": "dev", "test": "test"}  # mirror name -> ours
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
USER_AGENT = "hkd-corpus/0.1 (Python urllib)"
TED_LANGUAGES = (
    "en es pt-br fr ru he ar ko zh-cn it ja zh-tw nl ro tr de vi pl pt bg el fa sr hu hr uk cs id th "
    "sv sk sq lt da calv my sl mk fr-ca fi hy hi nb ka mn et ku gl mr zh ur eo ms az ta bn kk be eu bs"
).split()


class CorpusError(Exception):
    """A problem the user can act on (bad URL, corrupt download, malformed file)."""


class NotFoundError(CorpusError):
    """The server answered 404."""


class _Retry(Exception):
    """A recoverable failure of one download attempt (cut connection, 5xx)."""


# --------------------------------------------------------------------------------------- fetch


def _html_message(url: str, what: str) -> str:
    return (
        f"{url} served an HTML page, not the {what}. The original TED URL (phontron.com) no longer "
        "serves ted_talks.tar.gz: set `corpus.source: mirror` in the config to use the Hugging Face "
        "parquet mirror (neulab/ted_multi, `python -m hkd.corpus fetch-mirror`), or "
        "`corpus.source: local` with a copy you already have."
    )


def check_magic(head: bytes, magic: bytes, url: str, content_type: str = "") -> None:
    """Raise CorpusError unless ``head`` (the first bytes of a download) starts with ``magic``."""
    if head.startswith(magic):
        return
    what = "gzip archive" if magic == GZIP_MAGIC else "parquet file" if magic == PARQUET_MAGIC else "file"
    text = head.lstrip()[:64].lower()
    if "html" in content_type.lower() or text.startswith((b"<!doctype html", b"<html", b"<?xml")):
        raise CorpusError(_html_message(url, what))
    raise CorpusError(
        f"{url}: not a {what}: expected the first bytes {magic!r}, got {head[:16]!r} "
        f"(Content-Type {content_type or 'unknown'})"
    )


def parse_content_range(value: str | None) -> tuple[int | None, int | None]:
    """``'bytes 10-99/100'`` -> (10, 100); ``'bytes */100'`` -> (None, 100); unknown parts None."""
    m = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", value or "")
    if not m:
        return None, None
    start, total = m.groups()
    return (int(start) if start else None), (int(total) if total and total != "*" else None)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _download_once(url: str, part: Path, magic: bytes, timeout: float, chunk_size: int) -> None:
    """One HTTP request that appends to (206) or rewrites (200) ``part``; raises _Retry when cut."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    log.info("GET %s%s", url, f" (resuming at byte {offset})" if offset else "")
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        with e:
            if e.code == 404:
                raise NotFoundError(f"{url}: HTTP 404 Not Found") from None
            if e.code == 416 and offset:
                _, total = parse_content_range(e.headers.get("Content-Range"))
                if total is not None and total != offset:
                    part.unlink()
                    raise _Retry(f"{part} has {offset} bytes but the file has {total}: restarting") from None
                log.info("server says %s is already complete (%d bytes); verifying", part, offset)
                return
            if e.code in (408, 429) or e.code >= 500:
                raise _Retry(f"HTTP {e.code} {e.reason}") from None
            raise CorpusError(f"{url}: HTTP {e.code} {e.reason}") from None
    with resp:
        ctype = resp.headers.get("Content-Type", "")
        if resp.status == 206:
            start, _ = parse_content_range(resp.headers.get("Content-Range"))
            if start != offset:
                part.unlink()
                raise _Retry(f"asked for byte {offset}, server sent from {start}: restarting")
            mode, checked = "ab", True
            if "html" in ctype.lower():
                check_magic(b"", magic, url, ctype)  # raises
        else:
            if offset:
                log.warning("server ignored the Range request (HTTP %d): restarting from zero", resp.status)
            mode, checked = "wb", False
        length = resp.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        received, head = 0, b""
        with open(part, mode) as f:
            while chunk := resp.read(chunk_size):
                received += len(chunk)
                if not checked:  # hold the first bytes back until the magic is known to be right
                    head += chunk
                    if len(head) < len(magic):
                        continue
                    check_magic(head, magic, url, ctype)
                    chunk, head, checked = head, b"", True
                f.write(chunk)
    if expected is not None and received < expected:
        raise _Retry(f"connection closed after {received} of {expected} bytes")
    if not checked:
        check_magic(head, magic, url, ctype)  # a body shorter than the magic: raises


def fetch(
    url: str,
    out: Path,
    sha256: str | None = None,
    *,
    magic: bytes = GZIP_MAGIC,
    retries: int = 3,
    timeout: float = 60.0,
    retry_wait: float = 5.0,
    chunk_size: int = 1 << 20,
) -> Path:
    """Download ``url`` to ``out`` via ``out.part`` (resumable); verify magic and sha256, then rename.

    On connection errors it retries up to ``retries`` times, resuming from the bytes it has. A wrong
    file (HTML, bad magic, sha256 mismatch) removes the ``.part`` and raises CorpusError; when retries
    run out the ``.part`` is kept so that the next run resumes.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    t0 = time.monotonic()
    for attempt in range(retries + 1):
        try:
            _download_once(url, part, magic, timeout, chunk_size)
            break
        except NotFoundError:
            raise
        except CorpusError:
            part.unlink(missing_ok=True)
            raise
        except (_Retry, urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException) as e:
            if attempt == retries:
                kept = f"; {part} is kept and the next run resumes from it" if part.exists() else ""
                raise CorpusError(f"{url}: giving up after {retries + 1} attempt(s) ({e}){kept}") from e
            log.warning("attempt %d/%d failed: %s; retrying", attempt + 1, retries + 1, e)
            time.sleep(retry_wait * (attempt + 1))
    with open(part, "rb") as f:
        head = f.read(len(magic))
    try:
        check_magic(head, magic, url)
    except CorpusError:
        part.unlink()
        raise
    if sha256:
        got = sha256_file(part)
        if got != sha256.strip().lower():
            part.unlink()
            raise CorpusError(f"{url}: sha256 mismatch: expected {sha256.strip().lower()}, got {got}")
    os.replace(part, out)
    log.info("fetched %s (%d bytes) in %.1f s", out, out.stat().st_size, time.monotonic() - t0)
    return out


# ------------------------------------------------------------------------------ canonical files


@contextlib.contextmanager
def _atomic_outputs(out_dir: Path, names):
    """Yield {name: temporary path}; rename all to ``out_dir/name`` on success, remove on failure."""
    with atomic_outputs({n: Path(out_dir) / n for n in names}) as tmps:
        yield tmps


def check_header(header: list[str], where: str, langs: list[str] | None = None) -> list[str]:
    """Raise CorpusError unless ``header`` is talk_name + language codes incl. en and every one of ``langs``."""
    if header[0] != "talk_name" or "en" not in header[1:]:
        raise CorpusError(
            f"{where}: line 1 is not a TED corpus header (want 'talk_name<TAB>...en...', got {header[:4]!r}...)"
        )
    check_languages(header[1:], where, langs)
    return header


def check_languages(columns, where: str, langs: list[str] | None) -> None:
    """Raise CorpusError naming every code of ``langs`` that is not a language column of the corpus."""
    unknown = [lang for lang in langs or [] if lang not in columns]
    if unknown:
        raise CorpusError(
            f"{where}: language(s) {', '.join(map(repr, unknown))} not in the corpus (asked for with --langs: "
            f"the config's languages, merge sources and target); its language columns are: {' '.join(columns)}"
        )


def check_tsv_header(path: Path, label: str | None = None, langs: list[str] | None = None) -> list[str]:
    """Return the header of a corpus TSV (read by hkd.tsv's reader) after :func:`check_header`."""
    for _, header in iter_rows(path, label=label):
        return check_header(header, label or str(path), langs)
    raise CorpusError(f"{label or path}: empty file, expected a header starting with 'talk_name'")


def write_canonical(rows, out_path: Path, where: str, langs: list[str] | None = None) -> int:
    """Write the rows of :func:`hkd.tsv.iter_rows` as a canonical TSV (LF, no byte-order mark), after
    checking the header; return the number of data rows."""
    n = -1
    with open(out_path, "w", encoding="utf-8", newline="\n") as out:
        for n, (_, cells) in enumerate(rows):
            if n == 0:
                check_header(cells, where, langs)
            out.write("\t".join(cells) + "\n")
    if n < 0:
        raise CorpusError(f"{where}: empty file, expected a header starting with 'talk_name'")
    return n


def read_tsv(path: Path, columns: list[str] | None = None):
    """Read a corpus TSV as strings with quoting disabled (``"`` kept verbatim, no NaN parsing)."""
    import pandas as pd

    return pd.read_csv(
        path, sep="\t", quoting=3, dtype=str, na_filter=False, usecols=columns, engine="c"
    )


def _unsafe_member(name: str) -> bool:
    parts = Path(name).parts
    return name.startswith(("/", "\\")) or ".." in parts or (bool(parts) and ":" in parts[0])


def unpack(archive: Path, out_dir: Path, langs: list[str] | None = None) -> list[Path]:
    """Extract the three ``all_talks_*.tsv`` (at top level or in a folder) from a tar(.gz) archive,
    each read and checked by the corpus reader on the way (see :func:`write_canonical`)."""
    archive, out_dir = Path(archive), Path(out_dir)
    wanted = set(SPLIT_FILES.values())
    found: dict[str, str] = {}
    with _atomic_outputs(out_dir, sorted(wanted)) as tmps:
        try:
            with tarfile.open(archive, "r:*") as tar:
                for member in tar:  # one streaming pass: no seeking back through the gzip stream
                    if _unsafe_member(member.name):
                        raise CorpusError(f"{archive}: refusing member {member.name!r} (path traversal)")
                    base = member.name.rsplit("/", 1)[-1]
                    if base not in wanted or not member.isfile():
                        continue
                    if base in found:
                        raise CorpusError(f"{archive}: {base} twice ({found[base]!r}, {member.name!r})")
                    found[base] = member.name
                    log.info("extracting %s (%d bytes)", member.name, member.size)
                    where = f"{archive}:{member.name}"
                    with tar.extractfile(member) as src:
                        write_canonical(iter_rows(where, stream=src), tmps[base], where, langs)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise CorpusError(f"{archive}: cannot read the archive: {e}") from e
        missing = sorted(wanted - set(found))
        if missing:
            raise CorpusError(
                f"{archive}: no member named {', '.join(missing)} (found: {sorted(found.values())})"
            )
    return [out_dir / n for n in SPLIT_FILES.values()]


def copy_tsvs(src_dir: Path, out_dir: Path, langs: list[str] | None = None) -> list[Path]:
    """Copy the three TSVs from a directory in the canonical form, every line read by the corpus reader."""
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    names = list(SPLIT_FILES.values())
    for n in names:  # the headers first: a wrong one fails before any copying
        check_tsv_header(src_dir / n, langs=langs)
    if src_dir.resolve() == out_dir.resolve():
        return [out_dir / n for n in names]
    with _atomic_outputs(out_dir, names) as tmps:
        for n in names:
            rows = write_canonical(iter_rows(src_dir / n), tmps[n], str(src_dir / n), langs)
            log.info("%s: %d rows", src_dir / n, rows)
    return [out_dir / n for n in names]


# ------------------------------------------------------------------------------ parquet mirror


def fetch_mirror(
    base_url: str, out_dir: Path, parquet_dir: Path | None = None, langs: list[str] | None = None, **fetch_kw
) -> list[Path]:
    """Fetch ``plain_text/{split}/NNNN.parquet`` shards until a 404, then convert to the TSVs.

    Shards go to ``parquet_dir`` (default ``out_dir/parquet``) as ``{split}/NNNN.parquet``; shards
    already there are kept, so a killed run resumes where it stopped.
    """
    out_dir = Path(out_dir)
    parquet_dir = Path(parquet_dir) if parquet_dir else out_dir / "parquet"
    base = base_url.rstrip("/")
    for split in MIRROR_SPLITS:
        for i in itertools.count():
            url, dest = f"{base}/plain_text/{split}/{i:04d}.parquet", parquet_dir / split / f"{i:04d}.parquet"
            if dest.exists():
                log.info("have %s", dest)
                continue
            try:
                fetch(url, dest, magic=PARQUET_MAGIC, **fetch_kw)
            except NotFoundError:
                if i == 0:
                    raise CorpusError(
                        f"{url}: 404: the mirror has no shard 0000 for split {split!r}; check the base "
                        f"URL (expected .../neulab/ted_multi/resolve/refs%2Fconvert%2Fparquet)"
                    ) from None
                log.info("split %s: %d shard(s)", split, i)
                break
    return from_parquet(parquet_dir, out_dir, langs=langs)


def find_parquet_shards(parquet_dir: Path) -> dict[str, list[Path]]:
    """{mirror split: sorted shard paths} from ``DIR/{split}`` or ``DIR/plain_text/{split}``."""
    parquet_dir = Path(parquet_dir)
    root = parquet_dir / "plain_text" if (parquet_dir / "plain_text").is_dir() else parquet_dir
    shards = {s: sorted((root / s).glob("*.parquet")) for s in MIRROR_SPLITS}
    missing = [s for s, paths in shards.items() if not paths]
    if missing:
        raise CorpusError(
            f"{parquet_dir}: no parquet shards for {missing} (want {root}/<split>/NNNN.parquet)"
        )
    return shards


def _parquet_file(path: Path) -> pq.ParquetFile:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise CorpusError(f"{path}: not a readable parquet file: {e}") from e
    schema = pf.schema_arrow
    ok = "talk_name" in schema.names and "translations" in schema.names
    t = schema.field("translations").type if ok else None
    if not (ok and pa.types.is_struct(t) and {"language", "translation"} <= {f.name for f in t}):
        raise CorpusError(
            f"{path}: expected columns talk_name and translations=struct<language: list<string>, "
            f"translation: list<string>>, got {schema}"
        )
    return pf


def languages_in(path: Path) -> set[str]:
    """The language codes used in one shard (reads only the nested language lists)."""
    table = _parquet_file(path).read(columns=["translations.language"])
    col = table.column(0)  # pyarrow returns the leaf list or, in older versions, the pruned struct
    if pa.types.is_struct(col.type):
        col = pc.struct_field(col, "language")
    return {x for x in pc.unique(pc.list_flatten(col)).to_pylist() if x is not None}


def column_order(languages) -> list[str]:
    """Original TED column order for known codes, then unknown codes sorted."""
    langs = set(languages)
    return [c for c in TED_LANGUAGES if c in langs] + sorted(langs - set(TED_LANGUAGES))


def row_fields(talk_name, translations, columns: list[str]) -> list[str]:
    """One mirror row -> TSV fields ``[talk_name, text per column or __NULL__]``; ValueError if malformed."""
    if not isinstance(talk_name, str) or not talk_name or any(c in talk_name for c in "\t\r\n"):
        raise ValueError(f"bad talk_name {talk_name!r}")
    if not translations or translations.get("language") is None or translations.get("translation") is None:
        raise ValueError(f"talk {talk_name!r}: translations missing or null")
    langs, texts = translations["language"], translations["translation"]
    if len(langs) != len(texts):
        raise ValueError(f"talk {talk_name!r}: {len(langs)} languages but {len(texts)} translations")
    by_lang = dict(zip(langs, texts))
    if len(by_lang) != len(langs):
        raise ValueError(f"talk {talk_name!r}: a language appears twice in {langs}")
    if "en" not in by_lang:
        raise ValueError(f"talk {talk_name!r}: no English ('en') translation")
    for lang, text in by_lang.items():
        if not isinstance(text, str) or "\t" in text or "\n" in text or "\r" in text:
            raise ValueError(f"talk {talk_name!r}, {lang}: text is null or holds a tab/newline: {text!r}")
    fields = [talk_name]
    for lang in columns:
        fields.append(by_lang.get(lang, NULL))
    if len(by_lang) != sum(lang in by_lang for lang in columns):
        raise ValueError(f"talk {talk_name!r}: unknown language(s) {sorted(set(by_lang) - set(columns))}")
    return fields


def _convert_shard(path: Path, out, columns: list[str], batch_size: int) -> int:
    """Append one shard's rows to the open TSV ``out``, batch by batch; return the row count."""
    batches = _parquet_file(path).iter_batches(batch_size, columns=["talk_name", "translations"])
    rows = itertools.chain.from_iterable(batch.to_pylist() for batch in batches)
    n = 0
    for row in rows:
        try:
            out.write("\t".join(row_fields(row["talk_name"], row["translations"], columns)) + "\n")
        except ValueError as e:
            raise CorpusError(f"{path}: row {n}: {e}") from None
        n += 1
    return n


def from_parquet(
    parquet_dir: Path, out_dir: Path, batch_size: int = 4096, langs: list[str] | None = None
) -> list[Path]:
    """Convert the mirror's parquet shards to the three TSVs, streaming batch by batch."""
    shards = find_parquet_shards(parquet_dir)
    seen: set[str] = set()
    for path in itertools.chain.from_iterable(shards.values()):
        seen |= languages_in(path)
    columns = column_order(seen)
    if "en" not in columns:
        raise CorpusError(f"{parquet_dir}: no 'en' translations in any shard")
    check_languages(columns, f"{parquet_dir} (parquet shards)", langs)
    absent = [c for c in TED_LANGUAGES if c not in seen]
    if absent:
        log.warning("languages absent from the mirror (no column written): %s", " ".join(absent))
    names = {ours: SPLIT_FILES[ours] for ours in MIRROR_SPLITS.values()}
    with _atomic_outputs(Path(out_dir), names.values()) as tmps:
        for split, ours in MIRROR_SPLITS.items():
            n_rows = 0
            with open(tmps[names[ours]], "w", encoding="utf-8", newline="\n") as out:
                out.write("\t".join(["talk_name", *columns]) + "\n")
                for path in shards[split]:
                    n_rows += _convert_shard(path, out, columns, batch_size)
            log.info("%s -> %s: %d rows, %d languages", split, names[ours], n_rows, len(columns))
    return [Path(out_dir) / n for n in names.values()]


def local_kind(path: Path | str) -> tuple[str, list[Path]]:
    """What a local corpus path is ('archive', 'tsv' or 'parquet') and the files it is read from
    (``~`` expanded); the workflow declares those files as inputs, so that a changed corpus is read again."""
    path = Path(path).expanduser()
    if path.is_file():
        if not tarfile.is_tarfile(path):
            raise CorpusError(f"{path}: not a tar archive (want ted_talks.tar.gz, a TSV or parquet dir)")
        return "archive", [path]
    if not path.is_dir():
        raise CorpusError(f"{path}: no such file or directory")
    if all((path / n).is_file() for n in SPLIT_FILES.values()):
        return "tsv", [path / n for n in SPLIT_FILES.values()]
    shards = sorted(path.rglob("*.parquet"))
    if shards:
        return "parquet", shards
    raise CorpusError(
        f"{path}: holds neither {', '.join(SPLIT_FILES.values())} nor parquet shards "
        "({train,validation,test}/NNNN.parquet)"
    )


def local_inputs(path: Path | str) -> list[str]:
    """The files a local corpus is read from (local_kind), as the workflow declares them as inputs;
    the path itself when it names no corpus, so that Snakemake says it is missing."""
    try:
        return [str(f) for f in local_kind(path)[1]]
    except CorpusError:
        return [str(path)]


def fingerprint(files) -> str:
    """``path:size:mtime_ns`` of each file (a missing one: ``path:missing``): what changes when a file does."""
    parts = []
    for f in map(Path, files):
        try:
            st = f.stat()
            parts.append(f"{f}:{st.st_size}:{st.st_mtime_ns}")
        except FileNotFoundError:
            parts.append(f"{f}:missing")
    return " ".join(parts)


def from_local(path: Path, out_dir: Path, langs: list[str] | None = None) -> list[Path]:
    """A local ``ted_talks.tar.gz``, a directory with the three TSVs, or a directory of parquet shards."""
    path = Path(path).expanduser()
    kind, _ = local_kind(path)
    if kind == "archive":
        return unpack(path, out_dir, langs)
    if kind == "tsv":
        return copy_tsvs(path, out_dir, langs)
    return from_parquet(path, out_dir, langs=langs)


# -------------------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hkd.corpus", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    langs = argparse.ArgumentParser(add_help=False)  # for the commands that see the corpus header
    langs.add_argument("--langs", nargs="+", metavar="CODE", help="language columns the corpus must have")
    net = argparse.ArgumentParser(add_help=False)  # for the commands that download
    net.add_argument("--retries", type=int, default=3)
    net.add_argument("--timeout", type=float, default=60.0)
    p = sub.add_parser("fetch", parents=[net], help="resumable, verified download of ted_talks.tar.gz")
    p.add_argument("--url", required=True)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--sha256")
    p = sub.add_parser("unpack", parents=[langs], help="extract the three TSVs from the archive")
    p.add_argument("--archive", required=True, type=Path)
    p.add_argument("--out-dir", required=True, type=Path)
    p = sub.add_parser("fetch-mirror", parents=[langs, net], help="fetch the Hugging Face parquet mirror and convert it")
    p.add_argument("--base-url", required=True)
    p.add_argument("--out-dir", required=True, type=Path)
    p.add_argument("--parquet-dir", type=Path, help="where shards go (default OUT_DIR/parquet)")
    p = sub.add_parser("from-parquet", parents=[langs], help="convert mirror parquet shards to the TSVs")
    p.add_argument("--parquet-dir", required=True, type=Path)
    p.add_argument("--out-dir", required=True, type=Path)
    p = sub.add_parser("local", parents=[langs], help="use a local archive, TSV directory or parquet directory")
    p.add_argument("--path", required=True, type=Path)
    p.add_argument("--out-dir", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        if args.cmd == "fetch":
            fetch(args.url, args.out, args.sha256, retries=args.retries, timeout=args.timeout)
        elif args.cmd == "unpack":
            unpack(args.archive, args.out_dir, args.langs)
        elif args.cmd == "fetch-mirror":
            kw = {"retries": args.retries, "timeout": args.timeout}
            fetch_mirror(args.base_url, args.out_dir, args.parquet_dir, args.langs, **kw)
        elif args.cmd == "from-parquet":
            from_parquet(args.parquet_dir, args.out_dir, langs=args.langs)
        else:
            from_local(args.path, args.out_dir, args.langs)
    except (CorpusError, TsvError) as e:
        log.error("%s", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
