"""The assistant plan: which teacher-assistants the workflow trains, which model serves each cluster,
which assistants teach each language, and the column of each in the BLEU table (pure functions).

Every cluster of every clustering type is one teacher-assistant of the paper; a language is taught by
the assistants whose clusters hold it (C_sim of them, one per type that holds it). The workflow
trains one model per distinct set of languages: two types that form the same cluster (the paper's
svcca53 c2 and svcca23 c9) share one model, the *unit* that serves both. Assistants are named
``type/cluster``. Used by rules/common.smk (the jobs), hkd.student (the student's map) and the fairseq
task (through hkd.assistant_map).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

ALL = "all"  # the type and cluster name of the assistant over all languages (selective KD, Tan et al.)
Unit = tuple[str, str]  # (type, cluster)


def assistant_name(item) -> str:
    """'type/cluster' from either that string or a [type, cluster] pair."""
    if isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(x, str) for x in item):
        name = f"{item[0]}/{item[1]}"
    elif isinstance(item, str):
        name = item
    else:
        raise ValueError(f"an assistant is 'type/cluster' or [type, cluster], got {item!r}")
    parts = name.split("/")
    if len(parts) != 2 or not all(parts) or ":" in name or any(c.isspace() for c in name):
        raise ValueError(f"assistant name {name!r} is not 'type/cluster' (one '/', no ':' or spaces)")
    return name


def assistants_from_clusters(clusters: Mapping[str, Mapping[str, list]]) -> dict[str, list[str]]:
    """{lang: ['type/cluster', ...]} from a clusters mapping {type: {cluster: [langs]}} (file order)."""
    result: dict[str, list[str]] = {}
    for ctype, groups in clusters.items():
        for cluster, members in groups.items():
            for lang in members:
                result.setdefault(str(lang), []).append(assistant_name([str(ctype), str(cluster)]))
    return result


def teaching(clusters: Mapping[str, Mapping[str, list]], langs: list[str]) -> dict[str, list[str]]:
    """Each language's assistants (every cluster that holds it, one per type; [] when none does)."""
    table = assistants_from_clusters(clusters)
    unknown = sorted(set(table) - set(langs))
    if unknown:
        raise ValueError(f"the clusters hold languages that are not trained: {unknown}")
    return {lang: table.get(lang, []) for lang in langs}


@dataclass(frozen=True)
class Plan:
    """The teacher-assistants of a clusters file.

    units: the models to train, {(type, cluster): members}, one per distinct set of languages (the
    first cluster with that set, in file order; then the all-languages one).
    serves: {(type, cluster): unit} for every cluster of every type, and ("all", "all") when it is
    trained: the model that stands for it.
    types: the clustering types, in file order.
    """

    units: dict[Unit, list[str]]
    serves: dict[Unit, Unit]
    types: list[str]
    random: dict[str, str] = field(default_factory=dict)  # random type -> the type whose sizes it keeps

    def clusters(self) -> dict[Unit, Unit]:
        """`serves` without the all-languages assistant and the random types (Table 9's ablation,
        hkd.random_clusters): the student's assistants and their models."""
        return {tc: unit for tc, unit in self.serves.items() if tc[0] != ALL and tc[0] not in self.random}

    def student_units(self) -> list[Unit]:
        """The models that teach the student (sorted)."""
        return sorted(set(self.clusters().values()))

    def column(self, ctype: str) -> str:
        """The BLEU table's column of a type: ``cluster_t<i>`` by file order (random types left out),
        ``selective_all``, and ``random_t<i>`` for a random type that keeps type i's sizes."""
        if ctype == ALL:
            return "selective_all"
        types = [t for t in self.types if t not in self.random]
        if ctype in self.random:
            return f"random_t{types.index(self.random[ctype]) + 1}"
        return f"cluster_t{types.index(ctype) + 1}"

    def table_columns(self) -> list[tuple[str, Unit]]:
        """(column, unit) per cluster, in `serves` order: the column is filled, for the cluster's
        languages, with the scores of the model serving it."""
        return [(self.column(ctype), unit) for (ctype, _), unit in self.serves.items()]


def random_pairs(columns: list[str]) -> list[tuple[str, str]]:
    """(random_t<i>, cluster_t<i>) for each random column among `columns`: Table 9's tests of random
    against actual clusters."""
    return [(c, f"cluster_t{c[len('random_t'):]}") for c in sorted(set(columns)) if c.startswith("random_t")]


def make_plan(clusters: Mapping[str, Mapping[str, list]], langs: list[str], selective_all: bool,
              random: Mapping[str, str] | None = None) -> Plan:
    """The plan of a clusters mapping {type: {cluster: [langs]}} (see Plan); `selective_all` adds the
    assistant over all of `langs`; `random`: {random type: the type whose sizes it keeps}."""
    groups = [(str(t), str(n), list(m)) for t, g in clusters.items() for n, m in g.items()]
    if selective_all:
        groups.append((ALL, ALL, list(langs)))
    units: dict[Unit, list[str]] = {}
    serves: dict[Unit, Unit] = {}
    by_members: dict[tuple[str, ...], Unit] = {}
    for ctype, name, members in groups:
        key = tuple(sorted(members))
        if key not in by_members:
            by_members[key] = (ctype, name)
            units[(ctype, name)] = members
        serves[(ctype, name)] = by_members[key]
    return Plan(units, serves, [str(t) for t in clusters], dict(random or {}))
