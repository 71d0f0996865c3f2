"""Wall time of a dry run of the workflow (Snakemake parses the config and builds the DAG up to the
clusters checkpoint), against Snakemake's own start-up on an empty workflow:

    PYTHONPATH=. .venv/bin/python bench/dry_run.py [--repeat 5] [--configfile config/ted53.yaml ...]

Each command runs --repeat times in a fresh temporary folder (no .snakemake state); the minimum and
the median wall times are printed per command (the minimum is the least disturbed by other load on
the machine). Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(SNAKEMAKE), *args], cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def measure(label: str, args: list[str], repeat: int, snakefile: Path | None = None) -> None:
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="hkd-dry-run-") as tmp:
            work = Path(tmp)
            (work / "config").symlink_to(ROOT / "config")
            (work / "profiles").symlink_to(ROOT / "profiles")
            times.append(timed(["--snakefile", str(snakefile or ROOT / "Snakefile"), *args], work))
    print(f"{label:<48} min {min(times):5.2f} s  median {statistics.median(times):5.2f} s  ({repeat} runs)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--configfile", nargs="*", default=["config/ted53.yaml", "config/config.yaml"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hkd-empty-") as tmp:
        empty = Path(tmp) / "Snakefile"
        empty.write_text('rule all:\n    shell: "true"\n')
        measure("snakemake -n (empty workflow: start-up only)", ["-n", "-q"], args.repeat, empty)
    for configfile in args.configfile:
        measure(f"snakemake -n --configfile {configfile}", ["-n", "-q", "--configfile", configfile], args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
