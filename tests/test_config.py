"""Config validation: the schema (a misspelt key stops the run) and the cross-checks of hkd.config."""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import pytest
import yaml

from hkd import config as hkd_config

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / "config" / name).read_text())


@pytest.mark.parametrize("name", ["config.yaml", "ted53.yaml"])
def test_shipped_configs_are_valid(name):
    config = load(name)
    jsonschema.validate(config, SCHEMA)
    hkd_config.check(config)


def test_ted53_lists_the_papers_53_languages():
    config = load("ted53.yaml")
    ref = [line.split("\t")[0] for line in (ROOT / "config" / "ted53_languages.tsv").read_text().splitlines()
           if line and not line.startswith(("#", "code"))]
    assert len(ref) == 53 and sorted(config["languages"]) == sorted(ref)
    assert config["merge"] == {"pt-br": "pt", "fr-ca": "fr"}


def test_misspelt_key_is_an_error_naming_it(tmp_path):
    config = load("config.yaml")
    config["teacher"]["default"]["max_epochs"] = 3
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    assert hkd_config.main([str(path)]) == 1
    with pytest.raises(jsonschema.ValidationError, match="max_epochs"):
        jsonschema.validate(config, SCHEMA)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c["languages"].append("en"), "target"),
        (lambda c: c.update(merge={"pt-br": "pt"}), "merge.pt-br"),
        (lambda c: c["teacher"].update(overrides={"zz": {"max_epoch": 2}}), "teacher.overrides.zz"),
        (lambda c: c["corpus"].update(source="url"), "corpus.url"),
        (lambda c: c["clustering"]["types"]["typology"].update(fit_subset=["na", "nb", "sa"]), "typology.fit_subset"),
        (lambda c: c["clustering"]["types"]["svcca_subset"].update(fit_subset=["na", "nb", "zz"]), "'zz'"),
        (lambda c: c["clustering"].update(allow_missing={"nope": ["na"]}), "allow_missing.nope"),
        (lambda c: c["corpus"].update(source="mirror", mirror_url="x"), "clustering.typology"),
        (lambda c: c["clustering"]["types"]["random"].update(like="nope"), "random.like: no clustering type"),
        (lambda c: c["clustering"]["types"]["random"].update(focus=["zz"]), "random.focus: 'zz'"),
        (lambda c: c["clustering"]["types"].update(r2={"method": "random", "like": "random", "seed": 1}),
         "r2.like: 'random' is itself a random type"),
        (lambda c: c["clustering"]["types"].update(r2={"method": "random", "like": "svcca_all", "seed": 1}),
         "another random type copies 'svcca_all'"),
        (lambda c: c.update(languages=["kk", "be", "zz", "xyz"], corpus={"source": "mirror", "mirror_url": "x"},
                            clustering={**c["clustering"], "typology": "syntax_knn", "types": {"t": {"method": "svcca"}}}),
         r"languages: 'zz', 'xyz': unknown to the typology stage \(clustering.typology: syntax_knn\): neither a "
         r"TED code of hkd.typology.TED_TO_ISO3 nor an ISO 639-3 code that URIEL \(lang2vec\) knows"),
    ],
)
def test_cross_checks_name_the_key(change, message):
    config = copy.deepcopy(load("config.yaml"))
    change(config)
    with pytest.raises(hkd_config.ConfigError, match=message):
        hkd_config.check(config)


def test_random_types_need_like_and_seed_and_others_take_neither():
    config = copy.deepcopy(load("config.yaml"))
    del config["clustering"]["types"]["random"]["seed"]
    with pytest.raises(jsonschema.ValidationError, match="'seed' is a required property"):
        jsonschema.validate(config, SCHEMA)
    config = copy.deepcopy(load("config.yaml"))
    config["clustering"]["types"]["typology"]["like"] = "svcca_all"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, SCHEMA)


def test_typology_codes_are_checked_only_when_the_typology_stage_runs():
    config = load("ted53.yaml")  # the paper's clusters file: no typology stage
    config["languages"].append("zz")
    hkd_config.check(config)
    config["clustering"]["clusters"] = "computed"
    with pytest.raises(hkd_config.ConfigError, match=r"languages: 'zz': unknown to the typology stage"):
        hkd_config.check(config)
    config["languages"][-1] = "kmr"  # an ISO 639-3 code that URIEL knows, outside the TED code map
    hkd_config.check(config)


def test_length_guard_defaults_are_the_extractors():
    from hkd.extract import Limits

    corpus = SCHEMA["properties"]["corpus"]["properties"]
    assert (corpus["max_tokens"]["default"], corpus["max_ratio"]["default"]) == (Limits.max_tokens, Limits.max_ratio)


def test_validation_fills_the_null_defaults_the_rules_index():
    from snakemake.utils import validate

    config = copy.deepcopy(load("config.yaml"))
    validate(config, str(ROOT / "config" / "schema.yaml"))  # as rules/common.smk: set_default=True
    types = config["clustering"]["types"]
    assert config["evaluation"]["paper_table"] is None and config["corpus"]["synthetic"]["languages"] is None
    assert types["svcca_subset"]["fit_subset"] == ["na", "nb", "sa", "sb", "ea", "wa"]
    assert all(types[t]["k"] is None and types[t]["focus"] is None for t in types)
    assert all(types[t]["fit_subset"] is None for t in types if t != "svcca_subset")
    config["clustering"]["types"]["typology"]["focus"] = ["na"]  # focus only on a random type
    with pytest.raises(jsonschema.ValidationError, match="is not of type 'null'"):
        jsonschema.validate(config, SCHEMA)
    config = load("ted53.yaml")
    validate(config, str(ROOT / "config" / "schema.yaml"))
    assert config["clustering"]["types"]["random_svcca53"]["focus"] == ["gl", "el"]
