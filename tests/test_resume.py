"""A training job killed right after its last epoch, before Snakemake saw it end, completes on the rerun.

Snakemake then removes the job's declared outputs and runs it again; hkd.train resumes from the run's
folder, finds nothing left to train, and must produce every declared output again, identical to what
the uninterrupted job wrote. Simulated here exactly as the kill leaves it: a finished work folder, the
declared outputs removed. For each of a teacher, an assistant and the student, two ways of ending:
the last epoch (--max-epoch, the tiny run's models), and early stopping (--patience 1 with a learning
rate too small to change the dev BLEU: the models stop after their second epoch).
"""

from __future__ import annotations

import shutil

import pytest

from conftest import snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow

JOBS = {  # rule: its declared outputs
    "train_teacher": ["results/teachers/na/checkpoint_best.pt", "results/teachers/na/curve.jsonl"],
    "train_assistant": [f"results/assistants/all/all/{name}"
                        for name in ("checkpoint_best.pt", "curve.jsonl", "selective.jsonl")],
    "train_student": [f"results/student/{name}" for name in ("checkpoint_best.pt", "curve.jsonl", "alpha.jsonl")],
}
LOGS = {"train_teacher": "logs/train_teacher/na.log", "train_assistant": "logs/train_assistant/all/all.log",
        "train_student": "logs/train_student.log"}
# early stopping on dev BLEU, which a learning rate of 1e-9 leaves unchanged (dev loss would still creep)
STOPS_EARLY = {"patience": 1, "max_epoch": 4, "lr": 1e-9, "stop_metric": "bleu"}


def early_stopping_config(rule: str) -> dict:
    config = tiny_config()
    if rule == "train_teacher":
        config["teacher"]["overrides"] = {"na": STOPS_EARLY}
    else:
        section = "assistant" if rule == "train_assistant" else "student"
        config[section]["settings"].update(STOPS_EARLY)
    return config


def rerun(run, config, rule, outputs):
    # the targets before --allowed-rules, which would take them for more rule names; the clusters
    # checkpoint allowed too (it has nothing to do), else the assistants' input functions never see it
    return snakemake(run, "--configfile", str(config), "--cores", "1", *outputs, "--allowed-rules", rule,
                     "clusters")


@pytest.mark.parametrize("ending", ["last_epoch", "early_stop"])
@pytest.mark.parametrize("rule", list(JOBS))
def test_killed_after_the_last_epoch_the_rerun_publishes_every_output(tiny_run, copy_of, rule, ending):
    run = copy_of(tiny_run)
    outputs = JOBS[rule]
    config = run / "tiny.yaml"
    if ending == "early_stop":  # train the job afresh with settings that stop it early
        config = write_config(run / "early.yaml", early_stopping_config(rule))
        rerun(run, config, rule, outputs)
        epochs = [line for line in (run / outputs[1]).read_text().splitlines() if '"tag": "train"' in line]
        assert len(epochs) < STOPS_EARLY["max_epoch"], f"{rule} did not stop early: the test's premise"
    finished = {path: (run / path).read_bytes() for path in outputs}
    for path in outputs:  # what Snakemake does with the outputs of a job it never saw end
        (run / path).unlink()
    rerun(run, config, rule, outputs)
    for path in outputs:
        assert (run / path).read_bytes() == finished[path], f"{path} differs from the uninterrupted job's"
    assert "nothing left to train" in (run / LOGS[rule]).read_text()


def killed_when_a_store_appears(run, config, folder):
    """Run the workflow (its default target, as a user reruns it) and kill its whole process group with
    SIGKILL as soon as the first language's store of `folder` is finished, before the next is."""
    import os
    import signal
    import subprocess
    import time

    from conftest import BIN, ROOT

    cmd = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(run),
           "--configfile", str(config), "--cores", "1"]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 600
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            # the store of one language (its header is written last), in the folder or beside it
            if list(folder.parent.glob(f"{folder.name}/*/header.json")) + list(
                    folder.parent.glob(f".{folder.name}.partial-*/*/header.json")):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError(f"the run ended (exit {proc.returncode}) before {folder} had a store: the test's premise")


def test_a_store_folder_killed_between_two_languages_is_redone(tiny_run, copy_of):
    """The kill campaign's finding: an assistant's stores (one output folder, a store per language)
    killed after its first language. The job follows the clusters checkpoint, and Snakemake checks
    incomplete jobs before it adds those (dag.init, then update_checkpoint_dependencies), so a folder
    holding some of its stores passed for finished, even with --rerun-incomplete, and the student then
    failed on the missing one. The folder must appear whole or not at all, and the rerun complete."""
    import filecmp
    import json

    run = copy_of(tiny_run)
    config = run / "tiny.yaml"
    folders = [p for p in sorted((run / "results" / "stores" / "assistant").glob("*/*"))
               if not p.is_symlink() and sum(d.is_dir() for d in p.iterdir()) >= 2]
    assert folders, "no assistant with two languages in the tiny run: the test's premise"
    folder = folders[0]
    finished = run.parent / "finished"
    shutil.copytree(folder, finished)
    # as the campaign meets it: the job killed, and what follows not yet made (the student, Snakemake
    # 9.27 would not rebuild a missing output behind a checkpoint while its dependents exist: #3879)
    shutil.rmtree(folder)
    shutil.rmtree(run / "results" / "student")
    killed_when_a_store_appears(run, config, folder)
    snakemake(run, "--configfile", str(config), "--unlock")
    snakemake(run, "--configfile", str(config), "--cores", "1", "--rerun-incomplete")
    langs = [p for p in finished.iterdir() if p.is_dir()]  # one store each (and Snakemake's time stamp)
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == sorted(p.name for p in langs)
    for lang in langs:  # the same stores (the header's "seconds" is the dump's time)
        arrays = [f.name for f in lang.iterdir() if f.suffix == ".npy"]
        assert sorted(filecmp.cmpfiles(lang, folder / lang.name, arrays, shallow=False)[0]) == sorted(arrays)
        old, new = ({k: v for k, v in json.loads((d / "header.json").read_text()).items() if k != "seconds"}
                    for d in (lang, folder / lang.name))
        assert new == old, f"{folder / lang.name}/header.json differs"
    assert "Nothing to be done" in snakemake(run, "--configfile", str(config), "-n").stdout
