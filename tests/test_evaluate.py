"""hkd.evaluate: one process, one model load, every language; the outputs all or none.

The unit tests run on hand-made settings and files; the last test (slow, ~20 s) trains a toy
multilingual model for 2 epochs and checks that the one-process evaluation gives, per language, the
hypotheses of fairseq-generate run on its own for that language."""

from __future__ import annotations

import argparse
import json
import logging

import pytest

from hkd import evaluate, fileio
from toy_pairs import LANGS, SIZES, TINY_MODEL, fairseq, sentences, write_toy_data


def test_changed_settings_are_the_differing_values_and_the_new_keys():
    first = {"source_lang": "xa", "beam": 5, "langs": "xa"}
    assert evaluate.changed_settings(first, dict(first)) == {}
    assert evaluate.changed_settings(first, {**first, "source_lang": "xb", "langs": "xb", "new": None}) == {
        "source_lang": "xb", "langs": "xb", "new": None}


def test_task_config_for_applies_task_settings_to_a_copy():
    from omegaconf import OmegaConf

    legacy = argparse.Namespace(source_lang="xa", target_lang="en", langs=["xa", "xb", "en"])
    changed = evaluate.task_config_for(legacy, {"source_lang": "xb"})
    assert changed.source_lang == "xb" and changed.langs == ["xa", "xb", "en"] and legacy.source_lang == "xa"
    dataclass_cfg = OmegaConf.create({"_name": "hkd_multilingual", "langs": "xa", "source_lang": "xa"})
    OmegaConf.set_struct(dataclass_cfg, True)
    changed = evaluate.task_config_for(dataclass_cfg, {"langs": "xb", "source_lang": "xb"})
    assert (changed.langs, changed.source_lang) == ("xb", "xb") and dataclass_cfg.langs == "xa"


def test_a_setting_outside_the_task_may_not_differ_between_languages():
    with pytest.raises(ValueError, match="these differ too: beam, lenpen"):
        evaluate.task_config_for(argparse.Namespace(source_lang="xa"), {"source_lang": "xb", "beam": 4, "lenpen": 2})


def results(n: int) -> list[tuple[list[str], dict]]:
    return [([f"hypothesis {i} {j}" for j in range(3)], {"lang": f"l{i}", "bleu": float(i)}) for i in range(n)]


def test_outputs_are_renamed_into_place_together_scores_last(tmp_path, monkeypatch):
    hyps, jsons = [tmp_path / "e" / f"l{i}.hyp" for i in range(3)], [tmp_path / "e" / f"l{i}.json" for i in range(3)]
    renamed = []
    real = fileio.os.replace
    monkeypatch.setattr(fileio.os, "replace", lambda src, dst: (renamed.append(dst), real(src, dst)))
    evaluate.write_results(results(3), jsons, hyps)
    assert [p.suffix for p in renamed] == [".hyp"] * 3 + [".json"] * 3
    assert hyps[2].read_text() == "hypothesis 2 0\nhypothesis 2 1\nhypothesis 2 2\n"
    assert json.loads(jsons[1].read_text()) == {"lang": "l1", "bleu": 1.0}
    assert sorted(p.name for p in (tmp_path / "e").iterdir()) == sorted(p.name for p in hyps + jsons)


def test_a_failed_write_leaves_no_output_and_no_temporary_file(tmp_path):
    (tmp_path / "blocked").write_text("a file where a folder should be")
    hyps = [tmp_path / "e" / f"l{i}.hyp" for i in range(2)]
    jsons = [tmp_path / "e" / "l0.json", tmp_path / "blocked" / "l1.json"]
    with pytest.raises(OSError):
        evaluate.write_results(results(2), jsons, hyps)
    assert list((tmp_path / "e").iterdir()) == []


def generate_hypotheses(data, checkpoint, lang: str, extra: list[str]) -> list[str]:
    """fairseq-generate on its own, one language: its D- lines in sentence order."""
    out = fairseq("fairseq_cli.generate", data, "--path", checkpoint, "--gen-subset", "test", "--source-lang", lang,
                  "--target-lang", "en", "--beam", "3", "--batch-size", "4", "--remove-bpe", "sentencepiece",
                  "--num-workers", "0", "--cpu", *extra)
    by_id = {}
    for line in out.splitlines():
        if line.startswith("D-"):
            fields = line.split("\t")
            by_id[int(fields[0][2:])] = fields[2] if len(fields) == 3 else ""
    return [by_id[i] for i in range(len(by_id))]


@pytest.mark.slow
def test_one_process_gives_each_languages_own_fairseq_generate_hypotheses(tmp_path, caplog):
    sizes = {**SIZES, "test": {"xa": 5, "xb": 7}}
    data = write_toy_data(tmp_path / "bin", sizes=sizes)
    fairseq("fairseq_cli.train", data, "--task", "hkd_multilingual", "--langs", ",".join(LANGS), "--criterion",
            "cross_entropy", *TINY_MODEL, "--max-epoch", "2", "--save-dir", tmp_path / "model")
    checkpoint = tmp_path / "model" / "checkpoint_best.pt"
    refs = {lang: tmp_path / f"test.{lang}.en" for lang in LANGS}
    for lang, path in refs.items():
        path.write_text("".join(en + "\n" for _, en in sentences(lang, sizes["test"][lang], "test-1")))
    out = tmp_path / "eval"
    stale = out / ".xb.json.killed.tmp"  # what a killed evaluation leaves (hkd.fileio.temporary_beside)
    out.mkdir()
    stale.write_text("")
    caplog.set_level(logging.INFO, logger="hkd.evaluate")
    assert evaluate.main(["--data", str(data), "--checkpoint", str(checkpoint), "--src-langs", *LANGS,
                          "--tgt-lang", "en", "--references", *map(str, refs.values()), "--system", "toy",
                          "--beam", "3", "--batch-size", "4", "--max-len-a", "1.2", "--max-len-b", "5",
                          "--out-jsons", *[str(out / f"{lang}.json") for lang in LANGS],
                          "--out-hyps", *[str(out / f"{lang}.hyp") for lang in LANGS],
                          "--", "--task", "hkd_multilingual", "--langs", "{lang}"]) == 0
    assert caplog.text.count("loaded once") == 1  # one model load for both languages
    assert not stale.exists()
    for lang in LANGS:
        alone = generate_hypotheses(data, checkpoint, lang, ["--max-len-a", "1.2", "--max-len-b", "5", "--task",
                                                             "hkd_multilingual", "--langs", lang])
        assert len(alone) == sizes["test"][lang]
        assert (out / f"{lang}.hyp").read_text().splitlines() == alone, lang
        score = json.loads((out / f"{lang}.json").read_text())
        assert score["lang"] == lang and score["sentences"] == sizes["test"][lang] and 0 <= score["bleu"] <= 100
