"""A training job killed right after its last epoch, before Snakemake saw it end, completes on the rerun.

Snakemake then removes the job's declared outputs and runs it again; hkd.train resumes from the run's
folder, finds nothing left to train, and must produce every declared output again, identical to what
the uninterrupted job wrote. Simulated here exactly as the kill leaves it: a finished work folder, the
declared outputs removed. For each of a teacher, an assistant and the student, two ways of ending:
the last epoch (--max-epoch, the tiny run's models), and early stopping (--patience 1 with a learning
rate too small to change the dev BLEU: the models stop after their second epoch).
"""

from __future__ import annotations

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
