"""Clusters file: load, validate against the corpus languages, write deterministically.

Schema (``config/paper_clusters.yaml``): top-level keys = clustering type names, each a mapping
cluster name -> list of language codes::

    svcca53:
      c1: [ja, ko, mn, my]
      ...

Validation (``ClustersError``; each message names the file, line, type and cluster): a top level or a
type that is not a mapping; a duplicate key; a type or cluster name that is not an identifier
(``[A-Za-z][A-Za-z0-9_]*``) or a type not in ``allowed_types``; a cluster that is not a list, or is
empty; a member that is not a plain string (an unquoted ``no`` or ``on`` reads as a boolean in YAML);
a language not in the corpus; a language twice within one type (both clusters named); a corpus
language in no cluster of a type, unless ``allow_missing`` allows it for that type (the allowance is
logged). The paper's clusters validate against the 53 TED languages with ``svcca23: [sr]``::

    python -m hkd.clusters_file validate --clusters config/paper_clusters.yaml --langs kk be ... \\
        --allow-missing svcca23:sr [--types svcca53 svcca23 nmt_learned wals_kb]

``write_clusters`` writes types in the order given, clusters in the order given (or renumbered c1..cN
by their first member's position in the language list), members in language-list order, so the same
clusters give a byte-identical file.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from pathlib import Path

import yaml
from hkd.fileio import write_atomic_text

log = logging.getLogger("hkd.clusters_file")

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
STR_TAG = "tag:yaml.org,2002:str"
Clusters = dict[str, dict[str, list[str]]]


class ClustersError(ValueError):
    """A clusters file that does not fit the schema or the corpus; the message says where."""


def _line(node) -> int:
    return node.start_mark.line + 1


def _pairs(node, where: str):
    """Key/value node pairs of a mapping node; raises on a non-mapping or a duplicate key."""
    if not isinstance(node, yaml.MappingNode):
        raise ClustersError(f"{where}:{_line(node)}: expected a mapping, got {_kind(node)}")
    seen: dict[str, int] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode) or not NAME.match(key.value):
            raise ClustersError(
                f"{where}:{_line(key)}: name {getattr(key, 'value', key)!r} is not an "
                "identifier ([A-Za-z][A-Za-z0-9_]*)"
            )
        if key.value in seen:
            raise ClustersError(f"{where}:{_line(key)}: duplicate key {key.value!r} (first on line {seen[key.value]})")
        seen[key.value] = _line(key)
        yield key.value, value


def _kind(node) -> str:
    return {yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}.get(type(node), f"the scalar {node.value!r}")


def parse_clusters(text: str, where: str = "<clusters>") -> tuple[Clusters, dict]:
    """Parses the schema (no corpus checks); returns clusters and {(type, cluster): line}."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise ClustersError(f"{where}: not valid YAML: {error}") from None
    if root is None:
        raise ClustersError(f"{where}: empty clusters file")
    clusters: Clusters = {}
    lines: dict = {}
    for type_name, type_node in _pairs(root, where):
        clusters[type_name] = {}
        for cluster, members in _pairs(type_node, where):
            at = f"{where}:{_line(members)}: type {type_name!r} cluster {cluster!r}"
            if not isinstance(members, yaml.SequenceNode):
                raise ClustersError(f"{at}: expected a list of language codes, got {_kind(members)}")
            if not members.value:
                raise ClustersError(f"{at}: empty cluster")
            langs = []
            for item in members.value:
                if not isinstance(item, yaml.ScalarNode) or item.tag != STR_TAG or not item.value:
                    raise ClustersError(
                        f"{at}: member {getattr(item, 'value', item)!r} is not a language "
                        "code string (quote codes YAML reads as booleans or numbers)"
                    )
                langs.append(item.value)
            clusters[type_name][cluster] = langs
            lines[type_name, cluster] = _line(members)
        if not clusters[type_name]:
            raise ClustersError(f"{where}:{_line(type_node)}: type {type_name!r} has no clusters")
    return clusters, lines


def validate(
    clusters: Clusters,
    langs: list[str],
    allow_missing: dict[str, list[str]] | None = None,
    allowed_types: list[str] | None = None,
    where: str = "<clusters>",
    lines: dict | None = None,
) -> None:
    """Checks clusters against the corpus languages; raises ClustersError naming the problem."""
    allow_missing = allow_missing or {}
    lines = lines or {}
    corpus = set(langs)
    for type_name, allowed in allow_missing.items():
        if type_name not in clusters:
            raise ClustersError(f"allow_missing names type {type_name!r}, which {where} does not have")
        unknown = [lang for lang in allowed if lang not in corpus]
        if unknown:
            raise ClustersError(f"allow_missing for {type_name!r} names non-corpus language(s) {' '.join(unknown)}")
    for type_name, type_clusters in clusters.items():
        if allowed_types is not None and type_name not in allowed_types:
            raise ClustersError(f"{where}: type {type_name!r} is not allowed (allowed: {', '.join(allowed_types)})")
        home: dict[str, str] = {}
        for cluster, members in type_clusters.items():
            at = f"{where}:{lines.get((type_name, cluster), '?')}: type {type_name!r} cluster {cluster!r}"
            if not members:
                raise ClustersError(f"{at}: empty cluster")
            for lang in members:
                if lang not in corpus:
                    raise ClustersError(f"{at}: unknown language {lang!r} (not a corpus language)")
                if lang in home:
                    raise ClustersError(
                        f"{at}: language {lang!r} is in two clusters of type {type_name!r}: "
                        f"{home[lang]!r} and {cluster!r}"
                    )
                home[lang] = cluster
        missing = [lang for lang in langs if lang not in home]
        allowed = set(allow_missing.get(type_name, []))
        if [lang for lang in missing if lang not in allowed]:
            raise ClustersError(
                f"{where}: type {type_name!r}: corpus language(s) in no cluster: "
                f"{' '.join(lang for lang in missing if lang not in allowed)}"
            )
        for lang in missing:
            log.warning("%s: type %s: %s is in no cluster (allowed by allow_missing)", where, type_name, lang)
        for lang in sorted(allowed - set(missing)):
            log.warning("%s: type %s: allow_missing lists %s, which is clustered anyway", where, type_name, lang)


def load_clusters(
    path: Path,
    langs: list[str],
    allow_missing: dict[str, list[str]] | None = None,
    allowed_types: list[str] | None = None,
) -> Clusters:
    """Reads and validates a clusters file: {type: {cluster: [lang, ...]}} in file order."""
    path = Path(path)
    if not path.is_file():
        raise ClustersError(f"{path}: no such file")
    clusters, lines = parse_clusters(path.read_text(encoding="utf-8"), str(path))
    validate(clusters, langs, allow_missing, allowed_types, str(path), lines)
    return clusters


_READ: dict[tuple[str, int, int], Clusters] = {}  # (path, mtime_ns, size) -> the file's clusters


def read_cached(path: Path | str) -> Clusters:
    """A clusters file the workflow wrote and checked (hkd.cluster_languages combine), parsed once per
    version of it (path, modification time, size; libyaml when there): the workflow's input functions
    ask for it hundreds of times in one DAG. Each caller gets its own copy."""
    stat = os.stat(path)
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _READ:
        with open(path, encoding="utf-8") as f:
            parsed = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        _READ.clear()
        _READ[key] = parsed
    return {t: {c: list(m) for c, m in g.items()} for t, g in _READ[key].items()}


def clusters_of(clusters: Clusters, lang: str) -> list[tuple[str, str]]:
    """The (type, cluster) pairs that contain lang, in file order (its effective teacher assistants)."""
    return [(t, c) for t, type_clusters in clusters.items() for c, members in type_clusters.items() if lang in members]


def labels_of(type_clusters: dict[str, list[str]]) -> dict[str, str]:
    """{lang: cluster name} of one type."""
    return {lang: cluster for cluster, members in type_clusters.items() for lang in members}


def canonical(labels: dict[str, str], langs: list[str]) -> dict[str, list[str]]:
    """Clusters c1..cN from a {lang: any label} map, numbered by their first member in langs order."""
    order: dict[str, list[str]] = {}
    for lang in langs:
        if lang in labels:
            order.setdefault(labels[lang], []).append(lang)
    return {f"c{i}": members for i, members in enumerate(order.values(), start=1)}


def _scalar(code: str) -> str:
    """A language code as YAML: plain where YAML reads it back as the same string, else quoted."""
    plain = NAME.match(code) or re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", code)
    return code if plain and yaml.safe_load(code) == code else "'" + code.replace("'", "''") + "'"


def format_clusters(clusters: Clusters, langs: list[str] | None = None, header: str = "") -> str:
    """YAML text of clusters; members sorted by langs order when langs is given."""
    rank = {lang: i for i, lang in enumerate(langs or [])}
    out = [f"# {line}".rstrip() for line in header.splitlines()]
    for type_name, type_clusters in clusters.items():
        out.append(f"{type_name}:")
        for cluster, members in type_clusters.items():
            if langs is not None:
                members = sorted(members, key=lambda lang: (rank.get(lang, len(rank)), lang))
            out.append(f"  {cluster}: [{', '.join(_scalar(m) for m in members)}]")
    return "\n".join(out) + "\n"


def write_clusters(path: Path, clusters: Clusters, langs: list[str] | None = None, header: str = "") -> None:
    """Writes clusters atomically (temporary file, then rename); same input, byte-identical file."""
    path = Path(path)
    text = format_clusters(clusters, langs, header)
    parse_clusters(text, str(path))  # what we write must read back
    write_atomic_text(path, text)


def parse_allow_missing(items: list[str]) -> dict[str, list[str]]:
    """['svcca23:sr', 'svcca23:xx,yy'] -> {'svcca23': ['sr', 'xx', 'yy']}."""
    allow: dict[str, list[str]] = {}
    for item in items:
        type_name, sep, langs = item.partition(":")
        if not sep or not type_name or not langs:
            raise ClustersError(f"--allow-missing {item!r}: expected TYPE:LANG[,LANG...]")
        allow.setdefault(type_name, []).extend(lang for lang in langs.split(",") if lang)
    return allow


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("validate", help="validate a clusters file against the corpus languages")
    check.add_argument("--clusters", type=Path, required=True, help="clusters YAML file")
    check.add_argument("--langs", nargs="+", required=True, help="the corpus languages")
    check.add_argument(
        "--allow-missing",
        action="append",
        default=[],
        metavar="TYPE:LANG[,LANG]",
        help="allow LANG to be in no cluster of TYPE (repeatable)",
    )
    check.add_argument("--types", nargs="+", help="the allowed type names (default: any identifier)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    clusters = load_clusters(args.clusters, args.langs, parse_allow_missing(args.allow_missing), args.types)
    for type_name, type_clusters in clusters.items():
        sizes = " ".join(str(len(m)) for m in type_clusters.values())
        log.info("%s: %d clusters (sizes %s)", type_name, len(type_clusters), sizes)
    log.info(
        "%s: valid; %d types, M = %d clusters", args.clusters, len(clusters), sum(len(t) for t in clusters.values())
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ClustersError as error:
        print(f"hkd.clusters_file: error: {error}", file=sys.stderr)
        sys.exit(1)
