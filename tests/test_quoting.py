"""Every value reaches the shell quoted (Snakemake's :q): a corpus path with a quote, a space and a
semicolon, and a URL with & and a quote, each arrive as one argument (dry runs: what the jobs would run)."""

from __future__ import annotations

import shlex
import subprocess
import sys

from conftest import snakemake, tiny_config, write_config

ODD = "O'Brien ted; echo $HOME &"


def shell_commands(out: str) -> dict[str, list[str]]:
    """{program module: argv} of the 'Shell command:' lines of `snakemake -n -p`."""
    commands = {}
    for line in out.splitlines():
        if line.startswith("Shell command: python -m "):
            argv = shlex.split(line.removeprefix("Shell command: "))
            commands[argv[2] + " " + argv[3]] = argv
    return commands


def test_local_path_and_urls_reach_the_shell_quoted(tmp_path):
    source = tmp_path / ODD
    subprocess.run([sys.executable, "-m", "hkd.synthetic", "--out-dir", str(source), "--scale", "0.1"],
                   check=True, capture_output=True)
    config = tiny_config()
    config["corpus"] = {"source": "local", "local_path": str(source)}
    config["clustering"].update(clusters="clusters.yaml", typology="syntax_knn")
    write_config(tmp_path / "local.yaml", config)
    out = snakemake(tmp_path, "results/data/raw/counts.tsv", "-n", "-p", "--configfile", str(tmp_path / "local.yaml")).stdout
    argv = shell_commands(out)["hkd.corpus local"]
    assert argv[argv.index("--path") + 1] == str(source), argv
    assert argv[argv.index("--langs") + 1 : argv.index("--out-dir")] == [*config["languages"], "en"]
    url = "http://example.org/ted talks.tar.gz?a=1&b='2'"
    config["corpus"] = {"source": "url", "url": url}
    write_config(tmp_path / "url.yaml", config)
    out = snakemake(tmp_path, "results/data/raw/counts.tsv", "-n", "-p", "--configfile", str(tmp_path / "url.yaml")).stdout
    argv = shell_commands(out)["hkd.corpus fetch"]
    assert argv[argv.index("--url") + 1] == url, argv
    config["corpus"] = {"source": "mirror", "mirror_url": url}
    write_config(tmp_path / "mirror.yaml", config)
    out = snakemake(tmp_path, "results/data/raw/counts.tsv", "-n", "-p", "--configfile", str(tmp_path / "mirror.yaml")).stdout
    argv = shell_commands(out)["hkd.corpus fetch-mirror"]
    assert argv[argv.index("--base-url") + 1] == url, argv
