"""What Snakemake's own process costs on a local run, with and without its job rate limiter.

    .venv/bin/python bench/snakemake_overhead.py [--jobs 120] [--inputs 40] [--seconds 1] [--cores 2]

A toy workflow (in a temporary folder): JOBS independent jobs, each with INPUTS input files of its own, each
sleeping SECONDS (no CPU of its own), run twice with `snakemake --cores CORES`: once as Snakemake
9.27 runs it by default (`--max-jobs-per-timespan 100/1s`), once with `rules/scheduling.smk`, which
the Snakefile includes (a local run without a rate limit). For each it prints the wall time, the
ideal (JOBS x SECONDS / CORES) and the CPU seconds of the Snakemake process (its jobs are sleeps),
which on a real run the training jobs would have had.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = Path(sys.executable).parent / "snakemake"

TOY = """\
{include}
rule all:
    input: expand("out/{{i}}.txt", i=range({jobs}))
rule job:
    input: lambda w: [f"ins/{{w.i}}.{{k}}" for k in range({inputs})]
    output: "out/{{i}}.txt"
    shell: "sleep {seconds}; touch {{output}}"
"""


def run(folder: Path, cores: int) -> tuple[float, float]:
    """Wall seconds and the Snakemake process's CPU seconds (user + system) of one run."""
    start = time.monotonic()
    proc = subprocess.Popen([str(SNAKEMAKE), "--cores", str(cores), "--quiet", "all"], cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"snakemake failed in {folder}:\n{proc.stderr.read()}")
    return wall, usage.ru_utime + usage.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=120)
    ap.add_argument("--inputs", type=int, default=40, help="input files of each job")
    ap.add_argument("--seconds", type=float, default=1.0, help="how long each job sleeps")
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args(argv)
    ideal = args.jobs * args.seconds / args.cores
    print(f"{args.jobs} jobs of {args.seconds:g} s, {args.inputs} inputs each, --cores {args.cores}: "
          f"ideal wall {ideal:.1f} s")
    print(f"{'run':<44} {'wall':>8} {'Snakemake CPU':>14}")
    for name, include in [("Snakemake's default (rate limit 100/1s)", ""),
                          ("with rules/scheduling.smk (no rate limit)",
                           f'include: "{ROOT / "rules" / "scheduling.smk"}"')]:
        with tempfile.TemporaryDirectory(prefix="hkd-smk-") as tmp:
            folder = Path(tmp)
            (folder / "ins").mkdir()
            for i in range(args.jobs):
                for k in range(args.inputs):
                    (folder / "ins" / f"{i}.{k}").write_text("x\n")
            (folder / "Snakefile").write_text(TOY.format(include=include, jobs=args.jobs,
                                                         inputs=args.inputs, seconds=args.seconds))
            wall, cpu = run(folder, args.cores)
        print(f"{name:<44} {wall:>6.1f} s {cpu:>12.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
