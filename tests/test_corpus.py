"""Tests for hkd.corpus: downloads from a local HTTP server (127.0.0.1), unpacking, parquet mirror."""

from __future__ import annotations

import hashlib
import io
import logging
import random
import re
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hkd import corpus
from hkd.corpus import NULL, CorpusError
from hkd.tsv import TsvError

HEADER = ["talk_name", "en", "es", "fr", "de"]
QUOTED = 'he said " yes " and &quot; no &quot; , "quoted'


# ------------------------------------------------------------------------------ test HTTP server


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.files``; honours ``Range`` unless ``server.ignore_range``; can cut a response
    after N bytes (``server.cuts[path]``, one entry used per request); serves HTML for ``server.html``."""

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        srv = self.server
        rng = self.headers.get("Range")
        srv.requests.append((self.path, rng))
        if self.path in srv.html:
            page = b"<!DOCTYPE html><html><body>Moved. Please see our new site.</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        body = srv.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if rng and not srv.ignore_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", rng).group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        data = body[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        cuts = srv.cuts.get(self.path)
        if cuts:
            data = data[: cuts.pop(0)]  # HTTP/1.0: the connection closes when the handler returns
        self.wfile.write(data)


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.files, srv.html, srv.cuts, srv.requests, srv.ignore_range = {}, set(), {}, [], False
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


# ------------------------------------------------------------------------------------- fixtures


def _tsv_text(split: str, n: int) -> str:
    rng = random.Random(split)
    lines = ["\t".join(HEADER)]
    for i in range(n):
        words = " ".join(f"w{rng.randrange(10**6)}" for _ in range(12))
        de = NULL if i % 3 == 0 else f"de {words}"
        lines.append("\t".join([f"talk{i // 10}", f"{QUOTED} {words}", f"es {words}", f"fr {words}", de]))
    return "\n".join(lines) + "\n"


def _make_archive(path: Path, folder: str = "", skip: str | None = None, extra: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        members = {f"{folder}all_talks_{s}.tsv": _tsv_text(s, 300).encode() for s in ("train", "dev", "test")}
        members.update(extra or {})
        for name, data in members.items():
            if skip and name.endswith(skip):
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


@pytest.fixture
def archive(tmp_path) -> bytes:
    return _make_archive(tmp_path / "ted_talks.tar.gz", folder="ted_talks/")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fetch(server, tmp_path, **kw):
    return corpus.fetch(f"{server.url}/ted_talks.tar.gz", tmp_path / "dl" / "ted_talks.tar.gz", retry_wait=0, **kw)


# ----------------------------------------------------------------------------------------- fetch


def test_fetch_full_download(server, archive, tmp_path):
    server.files["/ted_talks.tar.gz"] = archive
    out = _fetch(server, tmp_path, sha256=_sha(archive).upper())
    assert out.read_bytes() == archive
    assert not out.with_name(out.name + ".part").exists()
    assert server.requests == [("/ted_talks.tar.gz", None)]


def test_fetch_resumes_after_cut(server, archive, tmp_path):
    server.files["/ted_talks.tar.gz"] = archive
    server.cuts["/ted_talks.tar.gz"] = [1000, 2000]
    out = _fetch(server, tmp_path, sha256=_sha(archive))
    assert server.requests == [
        ("/ted_talks.tar.gz", None),
        ("/ted_talks.tar.gz", "bytes=1000-"),
        ("/ted_talks.tar.gz", "bytes=3000-"),
    ]
    assert out.read_bytes() == archive and _sha(out.read_bytes()) == _sha(archive)


def test_fetch_resumes_existing_part(server, archive, tmp_path):
    server.files["/ted_talks.tar.gz"] = archive
    part = tmp_path / "dl" / "ted_talks.tar.gz.part"
    part.parent.mkdir()
    part.write_bytes(archive[:500])
    out = _fetch(server, tmp_path, sha256=_sha(archive))
    assert server.requests == [("/ted_talks.tar.gz", "bytes=500-")]
    assert out.read_bytes() == archive


def test_fetch_server_ignoring_range_restarts_from_zero(server, archive, tmp_path):
    server.files["/ted_talks.tar.gz"] = archive
    server.ignore_range = True
    part = tmp_path / "dl" / "ted_talks.tar.gz.part"
    part.parent.mkdir()
    stale = b"\x1f\x8bstale bytes from another run"
    part.write_bytes(stale)
    out = _fetch(server, tmp_path, sha256=_sha(archive))
    assert server.requests == [("/ted_talks.tar.gz", f"bytes={len(stale)}-")]
    assert out.read_bytes() == archive


def test_fetch_416_on_complete_part_verifies_and_finishes(server, archive, tmp_path):
    server.files["/ted_talks.tar.gz"] = archive
    part = tmp_path / "dl" / "ted_talks.tar.gz.part"
    part.parent.mkdir()
    part.write_bytes(archive)
    out = _fetch(server, tmp_path, sha256=_sha(archive))
    assert server.requests == [("/ted_talks.tar.gz", f"bytes={len(archive)}-")]
    assert out.read_bytes() == archive and not part.exists()


def test_fetch_checksum_mismatch_leaves_nothing(server, archive, tmp_path):
    server.files["/ted_talks.tar.gz"] = archive
    wrong = "0" * 64
    with pytest.raises(CorpusError) as err:
        _fetch(server, tmp_path, sha256=wrong)
    assert wrong in str(err.value) and _sha(archive) in str(err.value)
    assert list((tmp_path / "dl").iterdir()) == []


@pytest.mark.parametrize("with_part", [False, True])
def test_fetch_html_answer_fails_clearly(server, tmp_path, with_part):
    server.html.add("/ted_talks.tar.gz")
    dl = tmp_path / "dl"
    dl.mkdir()
    if with_part:
        (dl / "ted_talks.tar.gz.part").write_bytes(b"\x1f\x8b" + b"x" * 100)
    with pytest.raises(CorpusError, match="served an HTML page") as err:
        _fetch(server, tmp_path)
    assert "corpus.source: mirror" in str(err.value)
    assert list(dl.iterdir()) == []


def test_fetch_cli_html_returns_1(server, tmp_path, caplog):
    server.html.add("/ted_talks.tar.gz")
    out = tmp_path / "ted_talks.tar.gz"
    assert corpus.main(["fetch", "--url", f"{server.url}/ted_talks.tar.gz", "--out", str(out)]) == 1
    assert "served an HTML page" in caplog.text
    assert list(tmp_path.iterdir()) == []


def test_fetch_rejects_non_gzip(server, tmp_path):
    server.files["/ted_talks.tar.gz"] = b"PK\x03\x04 a zip file, not gzip" * 10
    with pytest.raises(CorpusError, match="not a gzip archive"):
        _fetch(server, tmp_path)
    assert list((tmp_path / "dl").iterdir()) == []


def test_fetch_gives_up_but_keeps_part_then_resumes(server, archive, tmp_path):
    server.files["/ted_talks.tar.gz"] = archive
    server.cuts["/ted_talks.tar.gz"] = [200, 200, 200]
    with pytest.raises(CorpusError, match=r"giving up after 3 attempt\(s\).*is kept"):
        _fetch(server, tmp_path, retries=2)
    part = tmp_path / "dl" / "ted_talks.tar.gz.part"
    assert part.stat().st_size == 600 and not (tmp_path / "dl" / "ted_talks.tar.gz").exists()
    out = _fetch(server, tmp_path, sha256=_sha(archive))
    assert server.requests[-1] == ("/ted_talks.tar.gz", "bytes=600-")
    assert out.read_bytes() == archive


def test_fetch_404(server, tmp_path):
    with pytest.raises(corpus.NotFoundError, match="404"):
        _fetch(server, tmp_path)


def test_parse_content_range():
    assert corpus.parse_content_range("bytes 10-99/100") == (10, 100)
    assert corpus.parse_content_range("bytes */100") == (None, 100)
    assert corpus.parse_content_range("bytes 0-9/*") == (0, None)
    assert corpus.parse_content_range(None) == (None, None)


# ---------------------------------------------------------------------------------------- unpack


@pytest.mark.parametrize("folder", ["", "ted_talks/", "a/b/"])
def test_unpack_top_level_or_subfolder(tmp_path, folder):
    _make_archive(tmp_path / "t.tar.gz", folder=folder)
    assert corpus.main(["unpack", "--archive", str(tmp_path / "t.tar.gz"), "--out-dir", str(tmp_path / "ted")]) == 0
    assert sorted(p.name for p in (tmp_path / "ted").iterdir()) == [
        "all_talks_dev.tsv", "all_talks_test.tsv", "all_talks_train.tsv",
    ]
    assert (tmp_path / "ted" / "all_talks_dev.tsv").read_text() == _tsv_text("dev", 300)
    df = corpus.read_tsv(tmp_path / "ted" / "all_talks_train.tsv")
    assert list(df.columns) == HEADER and len(df) == 300
    assert df["en"][0].startswith(QUOTED) and df["de"][0] == NULL


def test_unpack_missing_member(tmp_path):
    _make_archive(tmp_path / "t.tar.gz", folder="x/", skip="all_talks_dev.tsv")
    with pytest.raises(CorpusError, match=r"t\.tar\.gz: no member named all_talks_dev\.tsv"):
        corpus.unpack(tmp_path / "t.tar.gz", tmp_path / "ted")
    assert not (tmp_path / "ted").exists() or list((tmp_path / "ted").iterdir()) == []


def test_unpack_refuses_path_traversal(tmp_path):
    _make_archive(tmp_path / "t.tar.gz", extra={"../evil.tsv": b"x"})
    with pytest.raises(CorpusError, match="path traversal"):
        corpus.unpack(tmp_path / "t.tar.gz", tmp_path / "ted")
    assert not (tmp_path / "evil.tsv").exists()
    assert list((tmp_path / "ted").iterdir()) == []


def test_unpack_rejects_wrong_header(tmp_path):
    _make_archive(tmp_path / "t.tar.gz", extra={"all_talks_train.tsv": b"id\ttext\n1\thi\n"})
    with pytest.raises(CorpusError, match="all_talks_train.tsv: line 1"):
        corpus.unpack(tmp_path / "t.tar.gz", tmp_path / "ted")


def test_unpack_corrupt_archive(tmp_path):
    (tmp_path / "t.tar.gz").write_bytes(b"\x1f\x8b" + b"\0" * 50)
    with pytest.raises(CorpusError, match=r"t\.tar\.gz: cannot read"):
        corpus.unpack(tmp_path / "t.tar.gz", tmp_path / "ted")


# ------------------------------------------------------------------------------- parquet mirror

STRUCT = pa.struct([("language", pa.list_(pa.string())), ("translation", pa.list_(pa.string()))])


def _write_shard(path: Path, rows: list[tuple[str, list[str], list[str]]]) -> bytes:
    table = pa.table(
        {
            "talk_name": pa.array([r[0] for r in rows], pa.string()),
            "translations": pa.array([{"language": r[1], "translation": r[2]} for r in rows], STRUCT),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path.read_bytes()


MIRROR = {  # split -> shards -> rows (languages sorted as the mirror stores them)
    "train": [
        [("t1", ["de", "en", "fr"], ["de 1", QUOTED, "fr 1"]), ("t1", ["en", "pt-br"], ["en 2", "ptbr 2"])],
        [("t2", ["en", "fr", "xx"], ["en 3", "fr 3", "xx 3"])],
    ],
    "validation": [[("t3", ["de", "en"], ["de 4", "en 4"])]],
    "test": [[("t4", ["en"], ["en 5"])]],
}


def _serve_mirror(server, tmp_path, mirror=MIRROR) -> str:
    for split, shards in mirror.items():
        for i, rows in enumerate(shards):
            data = _write_shard(tmp_path / "src" / split / f"{i:04d}.parquet", rows)
            server.files[f"/pq/plain_text/{split}/{i:04d}.parquet"] = data
    return f"{server.url}/pq/"


def test_fetch_mirror_until_404_and_convert(server, tmp_path):
    base = _serve_mirror(server, tmp_path)
    out = tmp_path / "ted"
    assert corpus.main(["fetch-mirror", "--base-url", base, "--out-dir", str(out)]) == 0
    assert [p for p, _ in server.requests] == [
        "/pq/plain_text/train/0000.parquet", "/pq/plain_text/train/0001.parquet",
        "/pq/plain_text/train/0002.parquet", "/pq/plain_text/validation/0000.parquet",
        "/pq/plain_text/validation/0001.parquet", "/pq/plain_text/test/0000.parquet",
        "/pq/plain_text/test/0001.parquet",
    ]
    train = (out / "all_talks_train.tsv").read_text().splitlines()
    # TED column order for known codes (en pt-br fr de), unknown codes sorted after
    assert train == [
        "talk_name\ten\tpt-br\tfr\tde\txx",
        f"t1\t{QUOTED}\t{NULL}\tfr 1\tde 1\t{NULL}",
        f"t1\ten 2\tptbr 2\t{NULL}\t{NULL}\t{NULL}",
        f"t2\ten 3\t{NULL}\tfr 3\t{NULL}\txx 3",
    ]
    assert (out / "all_talks_dev.tsv").read_text() == f"talk_name\ten\tpt-br\tfr\tde\txx\nt3\ten 4\t{NULL}\t{NULL}\tde 4\t{NULL}\n"
    assert len((out / "all_talks_test.tsv").read_text().splitlines()) == 2
    df = corpus.read_tsv(out / "all_talks_train.tsv", ["talk_name", "en"])
    assert df["en"][0] == QUOTED  # quotes and &quot; verbatim through pandas with quoting=3
    # a rerun keeps the shards it has and only probes for the next one
    server.requests.clear()
    corpus.fetch_mirror(base, out, retry_wait=0)
    assert all(p.endswith(("0002.parquet", "0001.parquet")) for p, _ in server.requests)
    assert len(server.requests) == 3


def test_fetch_mirror_resumes_cut_shard(server, tmp_path):
    base = _serve_mirror(server, tmp_path)
    server.cuts["/pq/plain_text/train/0000.parquet"] = [100]
    corpus.fetch_mirror(base, tmp_path / "ted", retry_wait=0)
    assert ("/pq/plain_text/train/0000.parquet", "bytes=100-") in server.requests
    assert (tmp_path / "ted" / "parquet" / "train" / "0000.parquet").read_bytes() == server.files[
        "/pq/plain_text/train/0000.parquet"
    ]


def test_fetch_mirror_without_first_shard(server, tmp_path):
    base = _serve_mirror(server, tmp_path, {"train": MIRROR["train"], "test": MIRROR["test"]})
    with pytest.raises(CorpusError, match=r"validation/0000\.parquet: 404.*split 'validation'"):
        corpus.fetch_mirror(base, tmp_path / "ted", retry_wait=0)
    assert not any((tmp_path / "ted").glob("*.tsv"))


def test_fetch_mirror_html_is_not_parquet(server, tmp_path):
    server.html.add("/pq/plain_text/train/0000.parquet")
    with pytest.raises(CorpusError, match="served an HTML page, not the parquet file"):
        corpus.fetch_mirror(f"{server.url}/pq", tmp_path / "ted", retry_wait=0)


@pytest.mark.parametrize(
    "bad_row, message",
    [
        (("t9", ["en", "fr"], ["only one"]), "row 1: talk 't9': 2 languages but 1 translations"),
        (("t9", ["fr"], ["fr only"]), "row 1: talk 't9': no English"),
        (("t9", ["en", "en"], ["a", "b"]), "row 1: talk 't9': a language appears twice"),
        (("t9", ["en"], ["tab\there"]), "row 1: talk 't9', en: text is null or holds a tab"),
    ],
)
def test_from_parquet_malformed_shard(tmp_path, bad_row, message):
    src = tmp_path / "pq" / "plain_text"
    _write_shard(src / "train" / "0000.parquet", [MIRROR["train"][0][0], bad_row])
    _write_shard(src / "validation" / "0000.parquet", MIRROR["validation"][0])
    _write_shard(src / "test" / "0000.parquet", MIRROR["test"][0])
    with pytest.raises(CorpusError, match=re.escape(f"train/0000.parquet: {message}")):
        corpus.from_parquet(tmp_path / "pq", tmp_path / "ted")
    assert list((tmp_path / "ted").iterdir()) == []  # no finished-looking file, no temporary left


def test_from_parquet_wrong_schema(tmp_path):
    for split in ("train", "validation", "test"):
        (tmp_path / "pq" / split).mkdir(parents=True)
        pq.write_table(pa.table({"talk_name": ["a"], "text": ["b"]}), tmp_path / "pq" / split / "0000.parquet")
    with pytest.raises(CorpusError, match=r"0000\.parquet: expected columns talk_name and translations"):
        corpus.from_parquet(tmp_path / "pq", tmp_path / "ted")


def test_row_fields():
    cols = ["en", "fr", "de"]
    tr = {"language": ["de", "en"], "translation": ["hallo", 'hi "x" &quot;']}
    assert corpus.row_fields("t", tr, cols) == ["t", 'hi "x" &quot;', NULL, "hallo"]
    with pytest.raises(ValueError, match="unknown language"):
        corpus.row_fields("t", {"language": ["en", "zz"], "translation": ["a", "b"]}, cols)
    with pytest.raises(ValueError, match="translations missing"):
        corpus.row_fields("t", None, cols)


def test_column_order():
    assert corpus.column_order({"de", "zz", "en", "aa", "pt-br"}) == ["en", "pt-br", "de", "aa", "zz"]
    assert corpus.column_order(corpus.TED_LANGUAGES) == corpus.TED_LANGUAGES
    assert len(corpus.TED_LANGUAGES) == 60


# ----------------------------------------------------------------------------------------- local


def test_local_sources(tmp_path):
    _make_archive(tmp_path / "ted_talks.tar.gz", folder="ted_talks/")
    assert corpus.main(["local", "--path", str(tmp_path / "ted_talks.tar.gz"), "--out-dir", str(tmp_path / "a")]) == 0
    corpus.from_local(tmp_path / "a", tmp_path / "b")  # a directory of TSVs
    for split in ("train", "dev", "test"):
        name = f"all_talks_{split}.tsv"
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "a" / name).read_bytes()
    for split, shards in MIRROR.items():  # a directory of parquet shards (HF layout)
        for i, rows in enumerate(shards):
            _write_shard(tmp_path / "hf" / "plain_text" / split / f"{i:04d}.parquet", rows)
    corpus.from_local(tmp_path / "hf", tmp_path / "c")
    assert (tmp_path / "c" / "all_talks_train.tsv").read_text().startswith("talk_name\ten\tpt-br\tfr\tde\txx\n")


def test_local_bad_paths(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        corpus.from_local(tmp_path / "nope", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="holds neither"):
        corpus.from_local(tmp_path / "empty", tmp_path / "out")
    (tmp_path / "f.txt").write_text("hello")
    with pytest.raises(CorpusError, match="not a tar archive"):
        corpus.from_local(tmp_path / "f.txt", tmp_path / "out")


# -------------------------------------------------------------------- local: the corpus reader


def _tsv_dir(path: Path, transform=lambda data: data) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev", "test"):
        (path / f"all_talks_{split}.tsv").write_bytes(transform(_tsv_text(split, 30).encode()))
    return path


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_local_accepts_a_byte_order_mark_and_writes_the_canonical_form(tmp_path, line_end):
    src = _tsv_dir(tmp_path / "src", lambda data: b"\xef\xbb\xbf" + data.replace(b"\n", line_end))
    assert corpus.main(["local", "--path", str(src), "--out-dir", str(tmp_path / "out")]) == 0
    for split in ("train", "dev", "test"):  # no mark, LF line ends: what hkd.extract reads
        assert (tmp_path / "out" / f"all_talks_{split}.tsv").read_text() == _tsv_text(split, 30)
    _make_archive(tmp_path / "t.tar.gz", extra={"all_talks_dev.tsv": b"\xef\xbb\xbf" + _tsv_text("dev", 3).encode()})
    corpus.unpack(tmp_path / "t.tar.gz", tmp_path / "unpacked")
    assert (tmp_path / "unpacked" / "all_talks_dev.tsv").read_text() == _tsv_text("dev", 3)


def test_local_undecodable_bytes_name_file_line_and_byte(tmp_path, caplog):
    src = _tsv_dir(tmp_path / "src")
    path = src / "all_talks_train.tsv"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2][:5] + b"\xff" + lines[2][5:]  # within the first 8 KB
    path.write_bytes(b"\n".join(lines))
    with caplog.at_level(logging.ERROR):
        assert corpus.main(["local", "--path", str(src), "--out-dir", str(tmp_path / "out")]) == 1
    offset = len(lines[0]) + len(lines[1]) + 2 + 5
    assert (f"{path}:3: invalid UTF-8 at byte 5 of the line (byte {offset} of the file; bytes ff 09"
            in caplog.text), caplog.text
    assert not (tmp_path / "out" / "all_talks_train.tsv").exists()
    lines[2] = lines[2].replace(b"\xff", b"")  # the same error further down a file, and in an archive
    lines[200 % len(lines)] += b"\xc3"
    data = b"\n".join(lines)
    _make_archive(tmp_path / "t.tar.gz", extra={"all_talks_train.tsv": data})
    with pytest.raises(TsvError, match=r"t\.tar\.gz:all_talks_train\.tsv:\d+: invalid UTF-8 at byte \d+ of the line"):
        corpus.unpack(tmp_path / "t.tar.gz", tmp_path / "out")


def test_local_cr_only_line_ends_and_ragged_rows_are_named(tmp_path):
    src = _tsv_dir(tmp_path / "src", lambda data: data.replace(b"\n", b"\r"))
    with pytest.raises(TsvError, match=r"all_talks_train\.tsv: its line ends are CR only .* at byte 21, no LF"):
        corpus.from_local(src, tmp_path / "out")
    src = _tsv_dir(tmp_path / "src2", lambda data: data.replace(b"\tes ", b" es ", 1))
    with pytest.raises(TsvError, match=r"all_talks_train\.tsv:2: ragged row: 4 fields, the header has 5"):
        corpus.from_local(src, tmp_path / "out")


def test_local_path_expands_the_home_folder(tmp_path, monkeypatch):
    _tsv_dir(tmp_path / "home" / "ted")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert corpus.main(["local", "--path", "~/ted", "--out-dir", str(tmp_path / "out")]) == 0
    kind, files = corpus.local_kind("~/ted")
    assert kind == "tsv" and files == [tmp_path / "home" / "ted" / f"all_talks_{s}.tsv" for s in ("train", "dev", "test")]


def test_local_kind_lists_the_files_a_corpus_is_read_from(tmp_path):
    _make_archive(tmp_path / "ted_talks.tar.gz")
    assert corpus.local_kind(tmp_path / "ted_talks.tar.gz") == ("archive", [tmp_path / "ted_talks.tar.gz"])
    for split, shards in MIRROR.items():
        for i, rows in enumerate(shards):
            _write_shard(tmp_path / "hf" / "plain_text" / split / f"{i:04d}.parquet", rows)
    kind, files = corpus.local_kind(tmp_path / "hf")
    assert kind == "parquet" and len(files) == 4 and all(f.suffix == ".parquet" for f in files)


def test_unknown_language_named_as_soon_as_the_header_is_known(tmp_path, caplog):
    src = _tsv_dir(tmp_path / "src")
    with caplog.at_level(logging.ERROR):
        assert corpus.main(["local", "--path", str(src), "--out-dir", str(tmp_path / "out"),
                            "--langs", "es", "zz", "en"]) == 1
    assert (f"{src / 'all_talks_train.tsv'}: language(s) 'zz' not in the corpus (asked for with --langs: the "
            "config's languages, merge sources and target); its language columns are: en es fr de") in caplog.text
    assert corpus.main(["local", "--path", str(src), "--out-dir", str(tmp_path / "out"), "--langs", "es", "de"]) == 0
    _make_archive(tmp_path / "t.tar.gz", folder="x/")
    with pytest.raises(CorpusError, match=r"t\.tar\.gz:x/all_talks_\w+\.tsv: language\(s\) 'pt', 'zz' not in the corpus"):
        corpus.unpack(tmp_path / "t.tar.gz", tmp_path / "out", langs=["pt", "zz"])
    for split, shards in MIRROR.items():
        for i, rows in enumerate(shards):
            _write_shard(tmp_path / "hf" / split / f"{i:04d}.parquet", rows)
    with pytest.raises(CorpusError, match=r"hf \(parquet shards\): language\(s\) 'zz' not in the corpus"):
        corpus.from_parquet(tmp_path / "hf", tmp_path / "out", langs=["fr", "zz"])


def test_local_inputs_are_the_files_read_or_the_missing_path(tmp_path):
    src = _tsv_dir(tmp_path / "src")
    assert corpus.local_inputs(src) == [str(src / f"all_talks_{s}.tsv") for s in ("train", "dev", "test")]
    assert corpus.local_inputs(tmp_path / "nothing") == [str(tmp_path / "nothing")]  # Snakemake names it
    (tmp_path / "empty").mkdir()
    assert corpus.local_inputs(tmp_path / "empty") == [str(tmp_path / "empty")]
