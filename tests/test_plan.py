"""hkd.plan on hand-made clusters: which assistants are trained, which model serves each cluster,
which assistants teach each language, and the BLEU table's columns."""

import pytest

from hkd.plan import ALL, assistant_name, assistants_from_clusters, make_plan, random_pairs, teaching

LANGS = ["aa", "bb", "cc", "dd", "ee"]
# t2's c1 and t3's c2 hold the same languages as t1's c1 (in another order); dd is in four types
# (t1..t4); t4 leaves ee out (as the paper's svcca23 leaves out sr: allow_missing)
CLUSTERS = {
    "t1": {"c1": ["aa", "bb"], "c2": ["cc", "dd", "ee"]},
    "t2": {"c1": ["bb", "aa"], "c2": ["cc", "dd"], "c3": ["ee"]},
    "t3": {"c1": ["dd", "ee", "cc"], "c2": ["aa", "bb"]},
    "t4": {"c1": ["aa", "bb", "cc", "dd"]},
}


def test_one_model_per_distinct_member_set():
    plan = make_plan(CLUSTERS, LANGS, selective_all=True)
    assert plan.units == {
        ("t1", "c1"): ["aa", "bb"], ("t1", "c2"): ["cc", "dd", "ee"], ("t2", "c2"): ["cc", "dd"],
        ("t2", "c3"): ["ee"], ("t4", "c1"): ["aa", "bb", "cc", "dd"], (ALL, ALL): LANGS}
    # every cluster is served by the first cluster with its member set, in file order
    assert plan.serves[("t2", "c1")] == ("t1", "c1") and plan.serves[("t3", "c2")] == ("t1", "c1")
    assert plan.serves[("t3", "c1")] == ("t1", "c2") and plan.serves[("t2", "c2")] == ("t2", "c2")
    assert plan.serves[(ALL, ALL)] == (ALL, ALL) and len(plan.serves) == 9
    assert (ALL, ALL) not in plan.clusters() and len(plan.clusters()) == 8
    assert plan.student_units() == [("t1", "c1"), ("t1", "c2"), ("t2", "c2"), ("t2", "c3"), ("t4", "c1")]


def test_without_the_all_languages_assistant_and_when_a_cluster_holds_every_language():
    assert (ALL, ALL) not in make_plan(CLUSTERS, LANGS, selective_all=False).units
    plan = make_plan({"t1": {"c1": list(LANGS)}}, LANGS, selective_all=True)
    assert plan.units == {("t1", "c1"): LANGS} and plan.serves[(ALL, ALL)] == ("t1", "c1")
    assert plan.table_columns() == [("cluster_t1", ("t1", "c1")), ("selective_all", ("t1", "c1"))]


def test_a_language_in_four_types_has_four_assistants_and_a_missing_one_fewer():
    table = teaching(CLUSTERS, LANGS)
    assert table["dd"] == ["t1/c2", "t2/c2", "t3/c1", "t4/c1"]
    assert table["ee"] == ["t1/c2", "t2/c3", "t3/c1"]  # t4 holds no ee (allow_missing)
    assert teaching(CLUSTERS, [*LANGS, "ff"])["ff"] == []  # in no cluster: the student's NLL alone
    with pytest.raises(ValueError, match=r"not trained: \['ee'\]"):
        teaching(CLUSTERS, LANGS[:4])
    assert assistants_from_clusters(CLUSTERS) == table


def test_table_columns_by_type_order_with_the_serving_models():
    plan = make_plan(CLUSTERS, LANGS, selective_all=True)
    columns = plan.table_columns()
    assert columns[:3] == [("cluster_t1", ("t1", "c1")), ("cluster_t1", ("t1", "c2")), ("cluster_t2", ("t1", "c1"))]
    assert ("cluster_t3", ("t1", "c2")) in columns and ("cluster_t4", ("t4", "c1")) in columns
    assert columns[-1] == ("selective_all", (ALL, ALL)) and len(columns) == 9
    assert [plan.column(t) for t in plan.types] == ["cluster_t1", "cluster_t2", "cluster_t3", "cluster_t4"]


def test_assistant_names():
    assert assistant_name(["t1", "c1"]) == assistant_name("t1/c1") == "t1/c1"
    for bad in ("t1", "t1/c1/x", "t1:c1/c2", "t1/ c1", ["t1"], 3):
        with pytest.raises(ValueError):
            assistant_name(bad)


def test_random_types_are_trained_and_tabled_but_teach_no_student():
    clusters = {**CLUSTERS, "r2": {"c1": ["aa", "cc"], "c2": ["bb", "dd", "ee"]}}
    plan = make_plan(clusters, LANGS, selective_all=False, random={"r2": "t2"})
    assert plan.units[("r2", "c1")] == ["aa", "cc"] and ("r2", "c1") not in plan.clusters()
    assert plan.column("r2") == "random_t2" and plan.column("t4") == "cluster_t4"
    assert ("random_t2", ("r2", "c2")) in plan.table_columns()
    assert random_pairs([c for c, _ in plan.table_columns()]) == [("random_t2", "cluster_t2")]


def test_a_language_in_four_types_fills_four_columns_and_a_missing_one_leaves_its_column_empty():
    plan = make_plan(CLUSTERS, LANGS, selective_all=True)
    columns = {lang: [c for c, unit in plan.table_columns() if lang in plan.units[unit]] for lang in LANGS}
    assert columns["dd"] == ["cluster_t1", "cluster_t2", "cluster_t3", "cluster_t4", "selective_all"]
    assert columns["ee"] == ["cluster_t1", "cluster_t2", "cluster_t3", "selective_all"]  # t4 leaves ee out
    # the student's assistants of each language: one per type that holds it, served by the deduplicated units
    taught = {lang: [tc for tc, unit in plan.clusters().items() if lang in plan.units[unit]] for lang in LANGS}
    assert taught["dd"] == [("t1", "c2"), ("t2", "c2"), ("t3", "c1"), ("t4", "c1")]
    assert taught["ee"] == [("t1", "c2"), ("t2", "c3"), ("t3", "c1")]
    assert [plan.clusters()[tc] for tc in taught["ee"]] == [("t1", "c2"), ("t2", "c3"), ("t1", "c2")]
