"""The scheduler's priorities (the workflow's rules as Snakemake loads them): the student's chain
before the assistants that nothing trained waits for.

The random types' assistants and selective_all feed only the tables; they have a lower priority so
that they run beside the student. Every job between the clusters checkpoint and the student must then
rank above them: a job of that chain at the default priority (0) waits until no such assistant is left
to start, and the student, the longest job of the demo, runs last and alone (the 32ca976 demo: both
cores on the random assistants and selective_all for 6 minutes while the student's stores were ready).
"""

import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ResourceSettings

ROOT = Path(__file__).resolve().parent.parent

# from the clusters checkpoint to the student: its assistants, their stores, its assistant table, itself
STUDENT_CHAIN = [("train_assistant", "svcca_all"), ("train_assistant", "typology"), ("assistant_store", "learned"),
                 ("student_assistants", None), ("train_student", None)]
# what no training waits for
BASELINES = [("train_assistant", "random"), ("train_assistant", "all")]


@pytest.fixture(scope="module")
def workflow():
    with tempfile.TemporaryDirectory() as workdir, SnakemakeApi() as api:
        yield api.workflow(resource_settings=ResourceSettings(), snakefile=ROOT / "Snakefile",
                           workdir=Path(workdir))._workflow


def priority(workflow, rule: str, ctype: str | None) -> int:
    value = workflow.get_rule(rule).priority
    return value(SimpleNamespace(ctype=ctype, cluster="c1")) if callable(value) else value


def test_the_students_chain_ranks_above_the_baseline_assistants(workflow):
    highest = max(priority(workflow, rule, ctype) for rule, ctype in BASELINES)
    below = [(rule, ctype) for rule, ctype in STUDENT_CHAIN if priority(workflow, rule, ctype) <= highest]
    assert not below, f"on the student's chain but not above the baseline assistants: {below}"
