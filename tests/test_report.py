"""The BLEU table (hkd.report)."""

from __future__ import annotations

import json

import pytest

from hkd import report


def score(tmp_path, system, lang, bleu):
    path = tmp_path / f"{system}-{lang}.json"
    path.write_text(json.dumps({"system": system, "lang": lang, "bleu": bleu}))
    return path


def test_table_rows_columns_and_average(tmp_path):
    paths = [score(tmp_path, "teacher", "a", 10.0), score(tmp_path, "teacher", "b", 20.0),
             score(tmp_path, "hkd", "a", 12.0), score(tmp_path, "universal", "b", 15.0)]
    rows = report.build_rows(report.load_scores(paths, ["a", "b"]), {"a": 100, "b": 200}, ["a", "b"])
    assert rows[0] == ["lang", "train_pairs", "teacher", "universal", "hkd"]
    assert rows[1] == ["a", "100", "10.00", "NA", "12.00"]
    assert rows[-1] == ["average", "300", "15.00", "15.00", "12.00"]


def test_duplicate_or_unknown_scores_are_errors(tmp_path):
    one = score(tmp_path, "teacher", "a", 10.0)
    with pytest.raises(ValueError, match="second score"):
        report.load_scores([one, one], ["a"])
    with pytest.raises(ValueError, match="not one of"):
        report.load_scores([one], ["b"])


def test_columns_from_model_folders(tmp_path):
    shared = tmp_path / "typology-c1"
    shared.mkdir()
    for lang, bleu in (("a", 7.0), ("b", 8.0)):
        (shared / f"{lang}.json").write_text(json.dumps({"system": "assistant", "lang": lang, "bleu": bleu}))
    table = report.assign_columns({"teacher": {"a": 1.0}}, [f"cluster_t1={shared}", f"cluster_t4={shared}"])
    assert table == {"teacher": {"a": 1.0}, "cluster_t1": {"a": 7.0, "b": 8.0}, "cluster_t4": {"a": 7.0, "b": 8.0}}
    with pytest.raises(ValueError, match="already has a score"):
        report.assign_columns({}, [f"cluster_t1={shared}", f"cluster_t1={shared}"])


def test_student_column_from_its_folder(tmp_path):
    student = tmp_path / "student"
    student.mkdir()
    for lang, bleu in (("a", 11.0), ("b", 21.0)):
        (student / f"{lang}.json").write_text(json.dumps({"system": "student", "lang": lang, "bleu": bleu}))
    (student / "a.hyp").write_text("not a score\n")
    table = report.assign_columns({"teacher": {"a": 10.0, "b": 20.0}}, [f"hkd={student}"], ["a", "b"])
    assert table["hkd"] == {"a": 11.0, "b": 21.0}
    assert report.build_rows(table, {"a": 1, "b": 2}, ["a", "b"])[-1] == ["average", "3", "15.00", "16.00"]
    with pytest.raises(ValueError, match="not one of --langs"):
        report.assign_columns({}, [f"hkd={student}"], ["a"])
    with pytest.raises(ValueError, match="is not a folder"):
        report.assign_columns({}, [f"hkd={tmp_path / 'missing'}"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no score files"):
        report.assign_columns({}, [f"hkd={tmp_path / 'empty'}"])


def test_bad_score_files_name_the_file_and_key(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"system": "teacher", "lang": "a"}))
    with pytest.raises(ValueError, match=r"x\.json: no key 'bleu'"):
        report.load_scores([path], ["a"])
    path.write_text(json.dumps({"system": "teacher", "lang": "a", "bleu": "high"}))
    with pytest.raises(ValueError, match=r"x\.json: key 'bleu' is not a number"):
        report.load_scores([path], ["a"])
    path.write_text("{")
    with pytest.raises(ValueError, match=r"x\.json: not a JSON file"):
        report.load_scores([path], ["a"])


def test_train_sizes_and_bad_counts(tmp_path):
    counts = tmp_path / "counts.tsv"
    counts.write_text("lang\tsplit\tkept\na\ttrain\t10\na\tdev\t3\nb\ttrain\t20\n")
    assert report.train_sizes(counts) == {"a": 10, "b": 20}
    counts.write_text("lang\tsplit\trows\na\ttrain\t10\n")
    with pytest.raises(ValueError, match=r"counts\.tsv: no column 'kept'"):
        report.train_sizes(counts)
    counts.write_text("lang\tsplit\tkept\na\ttrain\tmany\n")
    with pytest.raises(ValueError, match=r"counts\.tsv, line 2: column 'kept'"):
        report.train_sizes(counts)


def test_band_labels_and_boundaries():
    assert report.band_labels([10000, 20000]) == ["<=10k", "10k-20k", ">20k"]
    assert report.band_labels([1500, 2_000_000]) == ["<=1.5k", "1.5k-2M", ">2M"]
    assert report.band_labels([750]) == ["<=750", ">750"]
    bounds = [10000, 20000]
    assert [report.band_index(n, bounds) for n in (0, 10000, 10001, 20000, 20001)] == [0, 0, 1, 1, 2]
    for bad in ([], [20000, 10000], [10000, 10000], [-1]):
        with pytest.raises(ValueError, match="--bands"):
            report.band_labels(bad)


def test_competition_ranks_and_ties():
    assert report.competition_ranks({"x": 3.0, "y": 2.0, "z": 1.0}) == {"x": 1, "y": 2, "z": 3}
    assert report.competition_ranks({"x": 5.0, "y": 5.0, "z": 3.0}) == {"x": 1, "y": 1, "z": 3}
    assert report.competition_ranks({"w": 5.0, "x": 3.0, "y": 3.0, "z": 1.0}) == {"w": 1, "x": 2, "y": 2, "z": 4}
    # compared as the table shows them: 1.004 and 1.001 both read 1.00
    assert report.competition_ranks({"x": 1.004, "y": 1.001, "z": 0.5}) == {"x": 1, "y": 1, "z": 3}


def test_place_shares_per_band():
    # a: 10000 pairs (<=10k), b: 10001 and c: 20000 (10k-20k), d: 20001 (>20k), e: no scores at all
    sizes = {"a": 10000, "b": 10001, "c": 20000, "d": 20001, "e": 30000}
    scores = {"x": {"a": 30.0, "b": 10.0, "c": 5.0},
              "y": {"a": 20.0, "b": 20.0, "c": 1.0},
              "z": {"a": 10.0, "b": 30.0, "c": 3.0, "d": 1.0}}  # x and y miss d
    bands = report.place_shares(scores, sizes, list(sizes), [10000, 20000], ["x", "y", "z"])
    assert [b.label for b in bands] == ["<=10k", "10k-20k", ">20k"]
    assert [b.languages for b in bands] == [["a"], ["b", "c"], ["d"]]
    assert bands[2].unranked == ["e"]
    assert bands[0].shares() == {"x": 50.0, "y": 50.0, "z": 0.0}
    assert bands[1].shares() == {"x": 25.0, "y": 25.0, "z": 50.0}  # b: z, y; c: x, z
    assert bands[2].shares() == {"x": 0.0, "y": 0.0, "z": 100.0}  # only z competes for d


def test_place_shares_with_ties_sum_to_100():
    # a: x and y tie for first (no second); b: x first, y and z tie for second
    scores = {"x": {"a": 5.0, "b": 9.0}, "y": {"a": 5.0, "b": 2.0}, "z": {"a": 1.0, "b": 2.0}}
    band, above = report.place_shares(scores, {"a": 1, "b": 2}, ["a", "b"], [10], ["x", "y", "z"])
    assert above.languages == [] and above.shares() is None
    assert band.places == {"x": 2, "y": 2, "z": 1}
    assert band.shares() == {"x": 40.0, "y": 40.0, "z": 20.0}
    assert sum(band.shares().values()) == pytest.approx(100.0)


def test_empty_band_and_missing_size():
    bands = report.place_shares({"x": {"a": 1.0}}, {"a": 5}, ["a"], [10, 20], ["x"])
    assert bands[1].shares() is None and bands[1].languages == []
    rows = report.places_rows({"without_hkd": bands}, ["x"])
    assert rows[2] == ["without_hkd", "10-20", "0", "NA"]
    with pytest.raises(ValueError, match="no training size for language 'b'"):
        report.place_shares({"x": {"b": 1.0}}, {}, ["b"], [10], ["x"])


def test_missing_scores():
    scores = {"teacher": {"a": 1.0, "b": 2.0}, "hkd": {"a": 1.0}}
    assert report.missing_scores(scores, ["a", "b", "c"]) == {"b": ["hkd"], "c": ["teacher", "hkd"]}


def write_run(tmp_path, with_student=True):
    """Scores of teacher and universal for a (5000 pairs), b (15000) and c (25000), the student in a folder."""
    scores = [score(tmp_path, "teacher", "a", 10.0), score(tmp_path, "teacher", "b", 20.0),
              score(tmp_path, "teacher", "c", 30.0), score(tmp_path, "universal", "a", 12.0),
              score(tmp_path, "universal", "b", 18.0), score(tmp_path, "universal", "c", 25.0)]
    student = tmp_path / "student"
    student.mkdir()
    for lang, bleu in (("a", 11.0), ("b", 19.0)):  # the student misses c
        (student / f"{lang}.json").write_text(json.dumps({"system": "hkd", "lang": lang, "bleu": bleu}))
    counts = tmp_path / "counts.tsv"
    counts.write_text("lang\tsplit\tkept\na\ttrain\t5000\nb\ttrain\t15000\nc\ttrain\t25000\na\tdev\t99\n")
    argv = ["--scores", *map(str, scores), str(student), "--counts", str(counts), "--langs", "a", "b", "c",
            "--out-tsv", str(tmp_path / "bleu.tsv"), "--out-md", str(tmp_path / "bleu.md"),
            "--out-places", str(tmp_path / "places.tsv")]
    return argv + (["--columns", f"hkd={student}"] if with_student else [])


def read_rows(path):
    return [line.split("\t") for line in path.read_text().splitlines()]


def test_main_writes_both_places_tables(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="hkd.report"):
        assert report.main(write_run(tmp_path)) == 0
    assert "c: no score from hkd" in caplog.text
    assert read_rows(tmp_path / "bleu.tsv")[0] == ["lang", "train_pairs", "teacher", "universal", "hkd"]
    assert read_rows(tmp_path / "places.tsv") == [
        ["table", "band", "languages", "teacher", "universal", "hkd"],
        ["without_hkd", "<=10k", "1", "50.00", "50.00", "NA"],
        ["without_hkd", "10k-20k", "1", "50.00", "50.00", "NA"],
        ["without_hkd", ">20k", "1", "50.00", "50.00", "NA"],
        ["with_hkd", "<=10k", "1", "0.00", "50.00", "50.00"],  # universal 12, hkd 11, teacher 10
        ["with_hkd", "10k-20k", "1", "50.00", "0.00", "50.00"],  # teacher 20, hkd 19, universal 18
        ["with_hkd", ">20k", "1", "50.00", "50.00", "0.00"],  # hkd has no score for c
    ]
    md = (tmp_path / "bleu.md").read_text()
    assert "## BLEU per language" in md and "(Table 7)" in md and "(Table 8)" in md
    assert "| <=10k | 1 | 0.00 | 50.00 | 50.00 |" in md


def test_main_without_student_and_custom_bands(tmp_path):
    argv = write_run(tmp_path, with_student=False) + ["--bands", "15000"]
    assert report.main(argv) == 0
    rows = read_rows(tmp_path / "places.tsv")
    assert rows[0] == ["table", "band", "languages", "teacher", "universal"]
    assert [r[:3] for r in rows[1:]] == [["without_hkd", "<=15k", "2"], ["without_hkd", ">15k", "1"]]
    assert rows[1][3:] == ["50.00", "50.00"]
    assert "Table 8" not in (tmp_path / "bleu.md").read_text()


def test_main_rejects_a_language_without_training_size(tmp_path):
    argv = write_run(tmp_path)
    (tmp_path / "counts.tsv").write_text("lang\tsplit\tkept\na\ttrain\t5000\nb\ttrain\t15000\n")
    with pytest.raises(ValueError, match=r"counts\.tsv: no 'train' row .* \['c'\]"):
        report.main(argv)


def test_random_columns_leave_table_6_for_table_9(tmp_path):
    argv = write_run(tmp_path)
    for name, scores in (("actual", {"a": 20.0, "b": 30.0}), ("random", {"a": 15.0})):
        folder = tmp_path / name
        folder.mkdir()
        for lang, bleu in scores.items():
            (folder / f"{lang}.json").write_text(json.dumps({"lang": lang, "bleu": bleu}))
    argv += [f"cluster_t1={tmp_path / 'actual'}", f"random_t1={tmp_path / 'random'}",
             "--out-random-tsv", str(tmp_path / "random.tsv")]
    assert report.main(argv) == 0
    assert "random_t1" not in read_rows(tmp_path / "bleu.tsv")[0] and "cluster_t1" in read_rows(tmp_path / "bleu.tsv")[0]
    assert "random_t1" not in read_rows(tmp_path / "places.tsv")[0]
    assert read_rows(tmp_path / "random.tsv") == [["lang", "cluster_t1", "random_t1", "delta_t1"],
                                                 ["a", "20.00", "15.00", "-5.00"],
                                                 ["average", "20.00", "15.00", "-5.00"]]
    assert "(Table 9)" in (tmp_path / "bleu.md").read_text()


def test_main_marks_significant_cells_and_writes_the_chrf_table(tmp_path):
    argv = write_run(tmp_path)
    for path in tmp_path.glob("*.json"):  # every score file gets a chrF
        record = json.loads(path.read_text())
        path.write_text(json.dumps({**record, "chrf": record["bleu"] + 30}))
    for path in (tmp_path / "student").glob("*.json"):
        record = json.loads(path.read_text())
        path.write_text(json.dumps({**record, "chrf": 40.0}))
    tests = tmp_path / "significance.tsv"
    header = "lang\tsystem\tbaseline\tmetric\tscore\tbaseline_score\tdelta\tp\tmean\tci95\tsignificant\tsignature\n"
    tests.write_text(header + "a\tteacher\tuniversal\tBLEU\t10\t12\t-2.00\t0.01\t10\t1\t1\tnrefs:1|bs:1000\n"
                     "b\tteacher\tuniversal\tBLEU\t20\t18\t2.00\t0.30\t20\t1\t0\tnrefs:1|bs:1000\n"
                     "a\thkd\tuniversal\tchrF\t40\t42\t-2.00\t0.02\t40\t1\t1\tnrefs:1|nc:6\n")
    argv += ["--significance", str(tests), "--out-chrf-tsv", str(tmp_path / "chrf.tsv")]
    assert report.main(argv) == 0
    md = (tmp_path / "bleu.md").read_text()
    assert "| a | 5000 | 10.00 -U | 12.00 | 11.00 |" in md and "| b | 15000 | 20.00 | 18.00 | 19.00 |" in md
    assert "## chrF per language" in md and "| a | 5000 | 40.00 | 42.00 | 40.00 -U |" in md
    assert "BLEU signature: `nrefs:1|bs:1000`" in md and "chrF signature: `nrefs:1|nc:6`" in md
    assert read_rows(tmp_path / "chrf.tsv")[1] == ["a", "5000", "40.00", "42.00", "40.00"]
    assert read_rows(tmp_path / "bleu.tsv")[1] == ["a", "5000", "10.00", "12.00", "11.00"]  # TSV: numbers only
