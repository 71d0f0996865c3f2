"""The Snakemake report of a real run, opened in headless Chromium (tools/check_report.py).

The workflow runs once on the tiny config (the session fixture `tiny_run`), `snakemake --report` writes
the self-contained HTML report, and Chromium shows it: the Table 6 page must show the values of
results/tables/bleu.tsv, and every picture and page of the report must load. Chromium is Debian's
`chromium` package; the set-up installs it when it is missing (as root, with apt-get) and the test is
skipped, with the reason, only where it cannot be installed.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import subprocess
import time

import pytest
import yaml
from PIL import Image

from conftest import ROOT, snakemake

pytestmark = pytest.mark.slow

spec = importlib.util.spec_from_file_location("check_report", ROOT / "tools" / "check_report.py")
check_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_report)


def apt_get(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", *args], env=env, capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="session")
def chromium() -> str:
    found = check_report.find_chromium()
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("Chromium is not installed and cannot be here (needs root and apt-get): "
                    "apt-get install -y chromium")
    result = apt_get("install", "-y", "chromium")
    if result.returncode != 0:  # a machine whose package lists are not there yet
        apt_get("update")
        result = apt_get("install", "-y", "chromium")
    found = check_report.find_chromium()
    if not found:
        pytest.skip(f"apt-get install -y chromium failed ({result.returncode}): {result.stderr[-800:]}")
    return found


def test_the_report_shows_table_6_and_every_picture(tiny_run, chromium, tmp_path):
    report = tiny_run / "results" / "report.html"
    started = time.monotonic()
    snakemake(tiny_run, "--configfile", str(tiny_run / "tiny.yaml"), "--report", str(report))
    print(f"report: {report.stat().st_size / 1e6:.1f} MB in {time.monotonic() - started:.1f} s")

    with open(tiny_run / "results/tables/bleu.tsv", newline="") as f:
        rows = {r["lang"]: r for r in csv.DictReader(f, delimiter="\t")}
    first = next(lang for lang in rows if lang != "average")
    expected = [rows[first]["teacher"], rows[first]["hkd"], rows["average"]["hkd"]]
    screenshot = tmp_path / "report.png"
    summary = check_report.check_report(report, "table-6", expected, screenshot, chromium)
    assert summary["problems"] == []
    assert first in summary["table"]["text"] and all(v in summary["table"]["text"] for v in expected)

    pictures = summary["pictures"]
    # rule plot_selective: results/assistants/{ctype}/{cluster}/selective.jsonl -> .../selective/{ctype}/{cluster}.png
    assistants = sorted(f"{p.parent.relative_to(tiny_run / 'results/assistants').as_posix()}.png"
                        for p in (tiny_run / "results/assistants").glob("*/*/selective.jsonl"))
    # a random type has no vectors, so no picture of its own (rules/common.smk: VECTOR_TYPES)
    types = [name for name, t in yaml.safe_load((tiny_run / "tiny.yaml").read_text())["clustering"]["types"].items()
             if t["method"] != "random"]
    wanted = {f"results/report/curves/{stage}.png" for stage in ("teachers", "universal", "assistants", "student")}
    wanted |= {"results/report/student/alpha.png", "results/report/results/bleu_by_size.png",
               "results/report/clustering/membership.png"}
    wanted |= {f"results/clustering/types/{t}.png" for t in types}
    wanted |= {f"results/report/assistants/selective/{a}" for a in assistants}
    assert len(assistants) >= 4
    assert wanted <= set(pictures), wanted - set(pictures)
    assert all(width > 200 and height > 100 for width, height in pictures.values())
    page_names = {path.rsplit("/", 1)[-1] for path in summary["pages"]}
    assert {"counts.html", "config.html", "ari.html", "convergence.html"} <= page_names
    assert any("table-7" in name for name in page_names) and any("table-8" in name for name in page_names)
    with Image.open(screenshot) as image:
        assert image.format == "PNG" and image.size == (check_report.WIDTH, check_report.HEIGHT)


def report_data(text: str, name: str):
    """The JSON the report's <script id=NAME> holds (var NAME = {...};)."""
    start = text.index(f"var {name} = ", text.index(f'<script id="{name}">')) + len(f"var {name} = ")
    return json.JSONDecoder().raw_decode(text, start)[0]


def test_every_report_result_has_a_caption_and_a_category(tiny_run):
    """No empty caption and no result left in Snakemake's default category "Other"."""
    report = tiny_run / "results" / "report.html"
    if not report.is_file():
        snakemake(tiny_run, "--configfile", str(tiny_run / "tiny.yaml"), "--report", str(report))
    text = report.read_text()
    results, categories = (report_data(text, name) for name in ("results", "categories"))
    assert "Other" not in categories and len(categories) == 7
    assert all(paths for subcategories in categories.values() for paths in subcategories.values())
    for path, result in results.items():
        caption = re.sub(r"<[^>]+>", "", result["caption"]).strip()
        # what it is and how it was made: two sentences or more, naming the hkd module that made it
        assert len(re.findall(r"[a-z0-9)]\.(\s|$)", caption)) >= 2 and "hkd." in caption, (path, caption)
        assert "{{" not in caption and "{%" not in caption, (path, caption)  # the template was rendered
        assert result["labels"], path
