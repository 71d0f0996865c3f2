"""Open the Snakemake report in headless Chromium and check it as a reader would see it.

    python tools/check_report.py results/report.html --table table-6 \
        --values-from results/tables/bleu.tsv [--expect 12.76 ...] [--screenshot docs/demo/report.png]

Drives Chromium through the DevTools protocol over a pipe (--remote-debugging-pipe: JSON messages on
file descriptors 3 and 4, no extra package): loads the report, clicks the menu to the results
category, the tables' subcategory and the view button of the table page whose label starts
(after its NN- number) with --table, and reads that page's text (the report shows it in an iframe) for every --expect string
and every cell of --values-from (the TSV the page was made from).
Then it shows every result of the report the way its view button does (app.setView, the call behind
the button) and checks that each picture has loaded (complete, naturalWidth > 0) and that each HTML
page has text and no broken image. With --screenshot, the table page as shown is saved as PNG.

Prints a JSON summary (pictures with their pixel sizes, pages with their text length, the table's
text) and exits 1 with the problems when a check fails, 2 when Chromium is not there.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
WIDTH, HEIGHT = 1500, 950


def find_chromium() -> str | None:
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """A headless Chromium with one page, spoken to over --remote-debugging-pipe."""

    def __init__(self, executable: str, timeout: float = 60):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="hkd-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def give_pipes():  # in the child: the protocol's fds 3 (commands) and 4 (replies), inherited
            read, write = to_browser_r, from_browser_w
            if write == 3:
                write = os.dup(write)
            os.dup2(read, 3)
            os.dup2(write, 4)
            os.set_inheritable(3, True)  # dup2 onto the same number keeps close-on-exec
            os.set_inheritable(4, True)

        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--mute-audio",
             f"--user-data-dir={self.profile}", "--remote-debugging-pipe", f"--window-size={WIDTH},{HEIGHT}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=give_pipes, close_fds=False)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=True)
        self.send("Runtime.enable", session=True)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}, session=True)

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                err = self.process.stderr.read().decode(errors="replace")[-2000:] if self.process.stderr else ""
                raise RuntimeError(f"Chromium closed the protocol pipe (exit {self.process.poll()}): {err}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def evaluate(self, expression: str, context: int | None = None):
        params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        if context is not None:
            params["contextId"] = context
        result = self.send("Runtime.evaluate", params, session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails'].get('exception', {}).get('description')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, what: str, timeout: float = 30, context: int | None = None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression, context)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"timed out waiting for {what}")

    def frame_context(self, frame_id: str) -> int:
        """An execution context in a frame (an isolated world: it reads the frame's DOM)."""
        return self.send("Page.createIsolatedWorld", {"frameId": frame_id, "worldName": "check"},
                         session=True)["executionContextId"]

    def child_frames(self) -> list[dict]:
        tree = self.send("Page.getFrameTree", session=True)["frameTree"]
        return [child["frame"] for child in tree.get("childFrames", [])]

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(base64.b64decode(data))
        tmp.replace(path)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


# a click on the innermost element showing exactly this text (React handles it where it bubbles to)
CLICK_TEXT = """(text => {
  const all = [...document.querySelectorAll('#app *')].filter(el => el.textContent.trim() === text);
  const inner = all.filter(el => ![...el.children].some(c => c.textContent.trim() === text));
  if (!inner.length) return false;
  inner[0].click();
  return true;
})(%s)"""
# the view button (first link of the row's last cell) of the result row whose labels contain the text
CLICK_VIEW = """(text => {
  const row = [...document.querySelectorAll('#app tr')].find(tr => tr.textContent.includes(text));
  if (!row) return false;
  row.lastElementChild.querySelector('a').click();
  return true;
})(%s)"""
PAGE_TEXT = "document.body ? document.body.innerText : ''"
BROKEN_IMAGES = "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length"


def category_of(report: dict, path: str) -> tuple[str, str]:
    for category, subcategories in report["categories"].items():
        for subcategory, paths in subcategories.items():
            if path in paths:
                return category, subcategory
    raise KeyError(path)


def open_result(browser: Browser, report: dict, path: str) -> None:
    """Show a result the way its view button does."""
    kind = "img" if report["results"][path]["mime_type"].startswith("image/") else "html"
    browser.evaluate(f"app.setView({{content: {json.dumps(kind)}, contentPath: results[{json.dumps(path)}].data_uri, "
                     f"resultPath: {json.dumps(path)}}})")


def iframe_text(browser: Browser, timeout: float = 20) -> tuple[str, int]:
    """(text, broken images) of the page the report shows in its iframe."""
    browser.wait_for("!!document.querySelector('#app iframe')", "the result's iframe", timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frames = [f for f in browser.child_frames() if f.get("url", "").startswith(("data:", "file:"))]
        if frames:
            context = browser.frame_context(frames[-1]["id"])
            text = browser.evaluate(PAGE_TEXT, context) or ""
            if text.strip():
                return text, browser.evaluate(BROKEN_IMAGES, context)
        time.sleep(0.2)
    raise TimeoutError("the result's iframe shows no text")


def check_report(report_path: Path, table: str, expect: list[str], screenshot: Path | None,
                 executable: str) -> dict:
    browser = Browser(executable)
    problems, summary = [], {"report": str(report_path), "pictures": {}, "pages": {}}
    try:
        browser.send("Page.navigate", {"url": report_path.resolve().as_uri()}, session=True)
        browser.wait_for("typeof app !== 'undefined' && document.querySelector('#app *') !== null",
                         "the report's app to render", 60)
        report = browser.evaluate("({results: results, categories: categories})")
        tables = [p for p, r in report["results"].items()
                  if re.sub(r"^\d+-", "", (r.get("labels") or {}).get("table") or r["name"]).startswith(table)]
        if len(tables) != 1:
            raise RuntimeError(f"expected one result labelled {table!r}, found {tables}")
        category, subcategory = category_of(report, tables[0])
        # as a reader: the category in the menu, the subcategory, the row's view button
        item = category if len(report["categories"]) > 1 else "Results"  # the menu of a single category
        browser.wait_for(CLICK_TEXT % json.dumps(item), f"the menu item {item!r}")
        if len(report["categories"][category]) > 1:
            browser.wait_for(CLICK_TEXT % json.dumps(subcategory), f"the subcategory {subcategory!r}")
        label = (report["results"][tables[0]].get("labels") or {}).get("table") or report["results"][tables[0]]["name"]
        browser.wait_for(CLICK_VIEW % json.dumps(label), f"the row of {label!r}")
        text, broken = iframe_text(browser)
        summary["table"] = {"result": tables[0], "label": label, "text": text}
        missing = [value for value in dict.fromkeys(expect) if value not in text]
        summary["table"]["checked_values"] = len(expect)
        if missing:
            problems.append(f"the page {label!r} does not show {missing[:20]} ({len(missing)} values)")
        if screenshot is not None:
            time.sleep(0.5)
            browser.screenshot(screenshot)
            summary["screenshot"] = str(screenshot)
        for path, result in sorted(report["results"].items()):
            open_result(browser, report, path)
            if result["mime_type"].startswith("image/"):
                size = browser.wait_for(
                    f"(i => i && i.complete && i.naturalWidth > 0 && [i.naturalWidth, i.naturalHeight])"
                    f"([...document.images].find(i => i.src === results[{json.dumps(path)}].data_uri))",
                    f"the picture {path}", 20)
                summary["pictures"][path] = size
            elif result["mime_type"] == "text/html":
                text, broken = iframe_text(browser)
                summary["pages"][path] = len(text)
                if broken:
                    problems.append(f"{path}: {broken} broken image(s)")
            else:
                problems.append(f"{path}: a {result['mime_type']} result the report cannot show (only a download)")
    except (RuntimeError, TimeoutError) as e:
        problems.append(str(e))
    finally:
        browser.close()
    summary["problems"] = problems
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="a self-contained report (snakemake --report X.html)")
    parser.add_argument("--table", default="table-6",
                        help="the table page to open: the start of its label after the NN- prefix")
    parser.add_argument("--expect", nargs="*", default=[], help="strings the table page must show")
    parser.add_argument("--values-from", type=Path, help="a TSV whose every cell the table page must show")
    parser.add_argument("--screenshot", type=Path, help="save the table page as shown (PNG)")
    args = parser.parse_args(argv)
    expect = list(args.expect)
    if args.values_from:
        expect += [cell for line in args.values_from.read_text(encoding="utf-8").splitlines()
                   for cell in line.split("\t") if cell]
    executable = find_chromium()
    if executable is None:
        print(f"no Chromium found (tried {', '.join(CHROMIUM)}); install it with: apt-get install -y chromium",
              file=sys.stderr)
        return 2
    summary = check_report(args.report, args.table, expect, args.screenshot, executable)
    print(json.dumps(summary, indent=1))
    return 1 if summary["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
