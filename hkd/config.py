"""Checks of the workflow config that a JSON schema cannot express (called from rules/common.smk).

The schema (config/schema.yaml) checks keys, types and bounds; this module checks how the values fit
together, and names the key that is wrong:

    python -m hkd.config config/config.yaml     # validate a config by hand
"""

from __future__ import annotations

import argparse
import sys
from functools import lru_cache
from pathlib import Path


class ConfigError(ValueError):
    """A config value that does not fit with the others; the message names the key."""


SCHEMA = Path(__file__).resolve().parent.parent / "config" / "schema.yaml"


@lru_cache(maxsize=None)
def _schema() -> dict:
    import yaml

    return yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))


def schema_default(*keys: str):
    """The one default of a config setting, from config/schema.yaml: e.g. ``schema_default("assistant",
    "selective_tau")``. The plugin's options and the maths' defaults take theirs from here."""
    node = _schema()
    for key in keys:
        node = node["properties"][key]
    return node["default"]


def check(config: dict) -> None:
    langs = config["languages"]
    target = config["target"]
    if target in langs:
        raise ConfigError(f"target: {target!r} is also listed in `languages`")
    for src, dst in (config.get("merge") or {}).items():
        if src in langs:
            raise ConfigError(f"merge.{src}: {src!r} is merged into {dst!r}, so it cannot also be in `languages`")
        if dst not in langs:
            raise ConfigError(f"merge.{src}: the language it merges into, {dst!r}, is not in `languages`")
    for lang in (config["teacher"].get("overrides") or {}):
        if lang not in langs:
            raise ConfigError(f"teacher.overrides.{lang}: {lang!r} is not in `languages`")
    corpus = config["corpus"]
    needs = {"url": "url", "mirror": "mirror_url", "local": "local_path"}
    key = needs.get(corpus["source"])
    if key and not corpus.get(key):
        raise ConfigError(f"corpus.{key}: required when corpus.source is {corpus['source']!r}")
    clustering = config["clustering"]
    for name, spec in clustering["types"].items():
        for lang in spec.get("fit_subset") or []:
            if lang not in langs:
                raise ConfigError(f"clustering.types.{name}.fit_subset: {lang!r} is not in `languages`")
        if spec.get("k") is not None and spec["k"] >= len(langs):
            raise ConfigError(f"clustering.types.{name}.k: {spec['k']} clusters of {len(langs)} languages (at most {len(langs) - 1})")
        if spec.get("fit_subset") and spec["method"] != "svcca":
            raise ConfigError(f"clustering.types.{name}.fit_subset: only the svcca method is fitted on a subset")
    for name, spec in clustering["types"].items():
        if spec["method"] != "random":
            continue
        like = clustering["types"].get(spec["like"])
        if like is not None and like["method"] == "random":
            raise ConfigError(f"clustering.types.{name}.like: {spec['like']!r} is itself a random type")
        if like is None and clustering["clusters"] == "computed":
            raise ConfigError(f"clustering.types.{name}.like: no clustering type {spec['like']!r}")
        if [other for other, o in clustering["types"].items() if o.get("like") == spec["like"]] != [name]:
            raise ConfigError(f"clustering.types.{name}.like: another random type copies {spec['like']!r} too")
        for lang in spec.get("focus") or []:
            if lang not in langs:
                raise ConfigError(f"clustering.types.{name}.focus: {lang!r} is not in `languages`")
    for name, missing in (clustering.get("allow_missing") or {}).items():
        if name not in clustering["types"]:
            raise ConfigError(f"clustering.allow_missing.{name}: no clustering type of that name")
        for lang in missing:
            if lang not in langs:
                raise ConfigError(f"clustering.allow_missing.{name}: {lang!r} is not in `languages`")
    if clustering["typology"] == "synthetic" and config["corpus"]["source"] != "synthetic":
        raise ConfigError("clustering.typology: `synthetic` needs corpus.source: synthetic "
                          "(use syntax_knn for a real corpus)")
    if clustering["clusters"] == "computed" and clustering["typology"] != "synthetic":
        check_typology_codes(langs, clustering["typology"])


def check_typology_codes(langs: list[str], feature_set: str) -> None:
    """Every language must be known to the typology stage (hkd.typology's code map, or URIEL itself)."""
    from hkd.typology import unknown_codes

    unknown = unknown_codes(langs)
    if unknown:
        raise ConfigError(
            f"languages: {', '.join(map(repr, unknown))}: unknown to the typology stage (clustering.typology: "
            f"{feature_set}): neither a TED code of hkd.typology.TED_TO_ISO3 nor an ISO 639-3 code that URIEL "
            "(lang2vec) knows; check the spelling, or give the clusters as a file (clustering.clusters)"
        )


def main(argv: list[str] | None = None) -> int:
    import jsonschema
    import yaml

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", type=Path)
    args = parser.parse_args(argv)
    schema = yaml.safe_load((Path(__file__).parent.parent / "config" / "schema.yaml").read_text())
    config = yaml.safe_load(args.config.read_text())
    try:
        jsonschema.validate(config, schema)
        check(config)
    except jsonschema.ValidationError as err:
        path = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        print(f"{args.config}: {path}: {err.message}", file=sys.stderr)
        return 1
    except ConfigError as err:
        print(f"{args.config}: {err}", file=sys.stderr)
        return 1
    print(f"{args.config}: ok", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
