"""rules/scheduling.smk: a local run has no job rate limit (Snakemake's costs a core; see the file and
bench/snakemake_overhead.py), unless the command line asks for another one."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = Path(sys.executable).parent / "snakemake"

TOY = f"""\
include: "{ROOT / "rules" / "scheduling.smk"}"
onsuccess:
    limiter = workflow.scheduler.job_rate_limiter
    Path("limiter.txt").write_text("none" if limiter is None else f"{{limiter.max_jobs}}/{{limiter.timespan}}")
rule job:
    output: "out.txt"
    shell: "touch {{output}}"
"""


@pytest.mark.parametrize("args, expected", [([], "none"), (["--max-jobs-per-timespan", "10/2s"], "10/2.0")])
def test_a_local_run_has_no_rate_limit_unless_asked_for_one(tmp_path, args, expected):
    (tmp_path / "Snakefile").write_text("from pathlib import Path\n" + TOY)
    subprocess.run([str(SNAKEMAKE), "--cores", "1", "--quiet", *args], cwd=tmp_path, check=True,
                   capture_output=True)
    assert (tmp_path / "limiter.txt").read_text() == expected
