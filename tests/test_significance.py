"""Paired bootstrap resampling (hkd.significance) and the table's marks (hkd.report)."""

from __future__ import annotations

import json
import random

import pytest

from hkd import report, significance

WORDS = "the a cat dog sat ran on in mat park he she reads eats book apple today now red big".split()


def corpus(n=60, seed=0):
    """n reference sentences and a baseline with about a third of the words replaced."""
    rng = random.Random(seed)
    refs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 9))) for _ in range(n)]
    baseline = [" ".join(w if rng.random() > 0.35 else rng.choice(WORDS) for w in r.split()) for r in refs]
    return refs, baseline


def test_identical_systems_are_not_significantly_different():
    refs, baseline = corpus()
    signatures, results = significance.paired_bootstrap(baseline, {"same": list(baseline)}, refs, "none", 1000)
    for metric in ("BLEU", "chrF"):
        r = results["same"][metric]
        assert r["score"] == r["baseline_score"] and r["p"] == 1.0
    assert "bs:1000" in signatures["BLEU"] and "seed:12345" in signatures["BLEU"]
    assert "nc:6" in signatures["chrF"]


def test_a_system_that_fixes_every_error_is_significantly_better():
    refs, baseline = corpus()
    _, results = significance.paired_bootstrap(baseline, {"fixed": list(refs)}, refs, "none", 1000)
    for metric in ("BLEU", "chrF"):
        r = results["fixed"][metric]
        assert r["score"] == pytest.approx(100) and r["baseline_score"] < 80
        assert r["p"] < 0.05 and r["ci95"] == pytest.approx(0)


def test_one_changed_sentence_is_not_significant_and_the_test_is_seeded():
    refs, baseline = corpus()
    nearly = list(baseline)
    nearly[0] = refs[0]
    first = significance.paired_bootstrap(baseline, {"nearly": nearly}, refs, "none", 500)
    again = significance.paired_bootstrap(baseline, {"nearly": nearly}, refs, "none", 500)
    assert first == again
    assert first[1]["nearly"]["BLEU"]["p"] > 0.05
    with pytest.raises(ValueError, match="differ in length"):
        significance.paired_bootstrap(baseline, {"short": baseline[:-1]}, refs, "none", 10)


def write_system(folder, system, lang, hyps, with_system_key=True):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{lang}.json"
    path.write_text(json.dumps({"system": system, "lang": lang, "bleu": 0, "chrf": 0} if with_system_key
                               else {"lang": lang, "bleu": 0, "chrf": 0}))
    (folder / f"{lang}.hyp").write_text("".join(h + "\n" for h in hyps))
    return path


def test_main_tests_every_system_against_every_baseline_and_the_table_marks_them(tmp_path):
    refs, baseline = corpus()
    (tmp_path / "a.en").write_text("".join(r + "\n" for r in refs))
    teacher = write_system(tmp_path / "teacher", "teacher", "a", refs)  # perfect
    universal = write_system(tmp_path / "universal", "universal", "a", baseline)
    write_system(tmp_path / "student", "hkd", "a", list(baseline), with_system_key=False)
    out = tmp_path / "significance.tsv"
    argv = ["--scores", str(teacher), str(universal), str(tmp_path / "student"), "--columns",
            f"hkd={tmp_path / 'student'}", "--langs", "a", "--references", str(tmp_path / "a.en"),
            "--baselines", "teacher", "universal", "--samples", "200", "--out", str(out)]
    assert significance.main(argv) == 0
    rows = [line.split("\t") for line in out.read_text().splitlines()]
    assert rows[0] == significance.COLUMNS
    tested = {(r[1], r[2], r[3]): r[10] for r in rows[1:]}
    assert tested == {(s, b, m): sig for m in ("BLEU", "chrF") for s, b, sig in
                      [("universal", "teacher", "1"), ("hkd", "teacher", "1"), ("teacher", "universal", "1"),
                       ("hkd", "universal", "0")]}
    tests, signatures = report.read_significance(out)
    assert report.marks(tests[("a", "teacher", "BLEU")]) == "+U"
    assert report.marks(tests[("a", "hkd", "BLEU")]) == "-T"
    rows = [["lang", "train_pairs", "teacher", "hkd"], ["a", "10", "100.00", "30.00"], ["average", "10", "1", "2"]]
    assert report.marked_rows(rows, tests, "BLEU")[1:] == [["a", "10", "100.00 +U", "30.00 -T"],
                                                           ["average", "10", "1", "2"]]
    assert set(signatures) == {"BLEU", "chrF"}


def test_main_rejects_an_unknown_baseline_and_missing_hypotheses(tmp_path):
    refs, baseline = corpus(5)
    (tmp_path / "a.en").write_text("".join(r + "\n" for r in refs))
    teacher = write_system(tmp_path / "teacher", "teacher", "a", refs)
    argv = ["--scores", str(teacher), "--langs", "a", "--references", str(tmp_path / "a.en"), "--out",
            str(tmp_path / "s.tsv"), "--baselines"]
    with pytest.raises(ValueError, match=r"--baselines: no hypotheses of \['universal'\]"):
        significance.main(argv + ["universal"])
    (tmp_path / "teacher" / "a.hyp").unlink()
    with pytest.raises(ValueError, match=r"teacher/a\.json: no hypotheses beside it"):
        significance.main(argv + ["teacher"])
