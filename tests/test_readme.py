"""Every `snakemake` command the README documents dry-runs as written, and `--configfile` means that
config alone (the demo's config/config.yaml is not merged into it).

The commands are read from the README itself (fenced and indented code blocks, and inline code spans
that start with `snakemake `), so a newly documented command is covered without a new test. Each runs
with `-n` in a fresh folder that sees the repository's config/ and profiles/ under their own names, so
relative paths resolve as they do in the repository root; a SLURM profile dry-runs without a cluster
(no job is submitted).
"""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest
import yaml

from conftest import BIN, ROOT, job_counts

README = ROOT / "README.md"
FENCE = re.compile(r"^```")
INLINE = re.compile(r"`(snakemake [^`]+)`")


def readme_commands(text: str) -> list[str]:
    """The `snakemake ...` command lines of a Markdown text, in order, each once, comments dropped."""
    lines = text.splitlines()
    found: list[str] = []
    in_fence = False
    for number, line in enumerate(lines):
        if FENCE.match(line.strip()):
            in_fence = not in_fence
            continue
        indented = line.startswith("    ") and (number == 0 or not lines[number - 1].strip() or lines[number - 1].startswith("    "))
        if in_fence or indented:
            command = line.split(" #", 1)[0].strip()
            if command.startswith("snakemake "):
                found.append(command)
        else:
            found.extend(m.group(1).strip() for m in INLINE.finditer(line))
    return list(dict.fromkeys(found))


def test_readme_commands_are_found():
    fence = "text\n```bash\nsnakemake --cores 2   # a comment\nls\n```\n"
    indented = "para:\n\n    snakemake --profile p --configfile c.yaml\n    echo\n"
    inline = "Rerun: `snakemake --cores 2 --forcerun x` or `make demo`; `snakemake --cores 2`.\n"
    assert readme_commands(fence + indented + inline) == [
        "snakemake --cores 2",
        "snakemake --profile p --configfile c.yaml",
        "snakemake --cores 2 --forcerun x",
    ]


def workspace(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    for name in ("config", "profiles"):
        (work / name).symlink_to(ROOT / name)
    return work


def dry_run(work, args: list[str]) -> subprocess.CompletedProcess:
    cmd = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), *args, "-n"]
    env_path = f"{BIN}:/usr/bin:/bin"  # no sbatch on the PATH: a SLURM profile must dry-run without one
    return subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=300, env={"PATH": env_path, "HOME": str(work)})


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))


def test_the_readme_documents_the_papers_run():
    assert any("--configfile config/ted53.yaml" in c and "profiles/slurm" in c for c in COMMANDS)
    assert any("--configfile config/ted53.yaml" in c and "profiles/local" in c for c in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_dry_runs(command, tmp_path):
    args = shlex.split(command)[1:]
    if "--report" in args:  # the report packs a finished run: dry-run the rest of the command
        at = args.index("--report")
        args = args[:at] + args[at + 2:]
    result = dry_run(workspace(tmp_path), args)
    assert result.returncode == 0, f"{command}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    if any(a.startswith("results/") for a in args):
        return  # one file's job
    # the whole DAG: one teacher per language of the config the command names (or the demo's)
    name = args[args.index("--configfile") + 1] if "--configfile" in args else "config/config.yaml"
    n_langs = len(yaml.safe_load((ROOT / name).read_text())["languages"])
    assert job_counts(result.stdout)["train_teacher"] == n_langs


def test_configfile_is_not_merged_with_the_demos(tmp_path):
    """A key the demo has and the given config lacks stays missing: the schema names it."""
    work = workspace(tmp_path)
    config = yaml.safe_load((ROOT / "config" / "ted53.yaml").read_text())
    del config["evaluation"]
    (work / "no_eval.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = dry_run(work, ["--configfile", "no_eval.yaml"])
    assert result.returncode != 0
    assert "'evaluation' is a required property" in result.stdout + result.stderr


def test_no_configfile_means_the_demo_and_config_amends_it(tmp_path):
    result = dry_run(workspace(tmp_path), ["--config", "name=amended"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert job_counts(result.stdout)["train_teacher"] == 10
