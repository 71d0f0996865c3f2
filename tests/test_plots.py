"""The report's pictures (hkd.plots): what is read from the curves and tables, and that PNGs come out."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from hkd import plots


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def curve_records(bleu, loss):
    records = [{"tag": "start", "resumed_after_epoch": None}]
    for epoch, (b, l) in enumerate(zip(bleu, loss), 1):
        records.append({"tag": "train", "epoch": epoch, "train_loss": l + 1})
        valid = {"tag": "valid", "epoch": epoch, "valid_loss": l}
        if b is not None:
            valid["valid_bleu"] = b
        records.append(valid)
    return records


def png_size(path):
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_best_epoch_is_highest_dev_bleu_first_on_a_tie():
    curve = plots.curve_from_records("kk", curve_records([1.0, 3.0, 3.0, 2.0], [5, 4, 3, 2]))
    assert curve.has_bleu and curve.best_epoch() == 2
    assert curve.train_epochs == [1, 2, 3, 4] and curve.train_loss == [6, 5, 4, 3]


def test_best_epoch_by_the_early_stopping_metric():
    records = curve_records([1.0, 3.0, 2.0], [5.0, 4.0, 3.0])
    assert plots.curve_from_records("kk", records, metric="loss").best_epoch() == 3
    assert plots.curve_from_records("kk", records, metric="bleu").best_epoch() == 2


def test_best_epoch_without_dev_bleu_is_lowest_dev_loss():
    curve = plots.curve_from_records("universal", curve_records([None] * 3, [5.0, 3.0, 4.0]))
    assert not curve.has_bleu and curve.best_epoch() == 2


def test_a_curve_without_epochs_is_an_error():
    with pytest.raises(ValueError, match="no train or valid record"):
        plots.curve_from_records("x", [{"tag": "start"}], "x/curve.jsonl")
    with pytest.raises(ValueError, match="x/curve.jsonl: a train record without an integer epoch"):
        plots.curve_from_records("x", [{"tag": "train", "train_loss": 1}], "x/curve.jsonl")


def test_curves_command_draws_every_model(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", curve_records([0.5, 1.5], [4, 3]))
    b = write_jsonl(tmp_path / "b.jsonl", curve_records([None, None], [4, 3.5]))
    out = tmp_path / "curves.png"
    assert plots.main(["curves", "--title", "teachers", "--curves", str(a), str(b), "--names", "a", "b",
                       "--metrics", "bleu", "loss", "--out", str(out)]) == 0
    width, height = png_size(out)
    assert width > height > 100
    with pytest.raises(SystemExit):
        plots.main(["curves", "--title", "t", "--curves", str(a), "--names", "a", "b", "--out", str(out)])
    with pytest.raises(SystemExit):
        plots.main(["curves", "--title", "t", "--curves", str(a), "--names", "a", "--metrics", "bleu", "loss",
                    "--out", str(out)])


def test_read_jsonl_names_the_bad_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"tag": "start"}\nnot json\n')
    with pytest.raises(ValueError, match=r"c.jsonl:2: not a JSON record"):
        plots.read_jsonl(path)


def test_alpha_series_per_language_and_assistant_in_epoch_order(tmp_path):
    records = [{"epoch": 2, "lang": "kk", "alpha": {"t1/c1": 0.25, "t2/c3": 0.75}},
               {"epoch": 1, "lang": "kk", "alpha": {"t1/c1": 0.5, "t2/c3": 0.5}},
               {"epoch": 1, "lang": "be", "alpha": {"t1/c2": 1.0}}]
    series = plots.alpha_series(records)
    assert series["kk"] == {"t1/c1": [(1, 0.5), (2, 0.25)], "t2/c3": [(1, 0.5), (2, 0.75)]}
    assert series["be"] == {"t1/c2": [(1, 1.0)]}
    out = tmp_path / "alpha.png"
    plots.main(["alpha", "--alpha", str(write_jsonl(tmp_path / "alpha.jsonl", records)), "--out", str(out)])
    assert png_size(out)[0] > 300
    with pytest.raises(ValueError, match="needs 'lang', 'epoch' and an 'alpha' object"):
        plots.alpha_series([{"epoch": 1, "lang": "kk"}], "alpha.jsonl")


def test_selective_flags_grid_and_picture(tmp_path):
    records = [{"epoch": 1, "lang": "kk", "kd": True, "checked": False},
               {"epoch": 1, "lang": "be", "kd": True, "checked": False},
               {"epoch": 2, "lang": "kk", "kd": False, "checked": True, "assistant_bleu": 5.0, "teacher_bleu": 3.0},
               {"epoch": 2, "lang": "be", "kd": True, "checked": True, "assistant_bleu": 1.0, "teacher_bleu": 3.0}]
    langs, epochs, cells = plots.flag_grid(records)
    assert langs == ["kk", "be"] and epochs == [1, 2]
    assert cells[("kk", 2)]["kd"] is False and cells[("be", 2)]["kd"] is True
    out = tmp_path / "sel.png"
    plots.main(["selective", "--flags", str(write_jsonl(tmp_path / "s.jsonl", records)), "--title", "t1/c1",
                "--out", str(out)])
    assert png_size(out)[1] > 100
    empty = tmp_path / "empty.png"  # an assistant whose log is still empty still gets its picture
    plots.main(["selective", "--flags", str(write_jsonl(tmp_path / "e.jsonl", [])), "--title", "t", "--out", str(empty)])
    assert empty.is_file()


def test_table_cells_as_numbers():
    assert plots.number("12.34") == 12.34
    assert plots.number("12.34 +U -T") == 12.34  # significance marks follow the number
    assert plots.number("NA") is None and plots.number("") is None
    with pytest.raises(ValueError, match="not a number"):
        plots.number("abc")


def test_bleu_by_size_orders_languages_by_training_size(tmp_path):
    rows = [{"lang": "a", "train_pairs": "300", "teacher": "1.00", "hkd": "2.00 +U"},
            {"lang": "b", "train_pairs": "100", "teacher": "NA", "hkd": "3.00"},
            {"lang": "average", "train_pairs": "400", "teacher": "1.00", "hkd": "2.50"}]
    langs, values = plots.bleu_by_size(rows)
    assert langs == [("b", 100), ("a", 300)]
    assert values == {"teacher": [None, 1.0], "hkd": [3.0, 2.0]}
    out = tmp_path / "size.png"
    plots.plot_bleu_by_size(langs, values, out)
    assert png_size(out)[0] > 300
    with pytest.raises(ValueError, match="bleu.tsv: column hkd: not a number"):
        plots.bleu_by_size([{"lang": "a", "train_pairs": "1", "hkd": "x"}], "bleu.tsv")
    with pytest.raises(ValueError, match="language a: train_pairs is not an integer"):
        plots.bleu_by_size([{"lang": "a", "train_pairs": "many", "hkd": "1"}], "bleu.tsv")


def test_membership_grid(tmp_path):
    path = tmp_path / "membership.tsv"
    path.write_text("lang\tt1\tt2\nkk\tc1\tc2\nbe\tc1\t\nbn\tc2\tc1\n")
    langs, types, cells = plots.membership_grid(plots.read_tsv(path))
    assert langs == ["kk", "be", "bn"] and types == ["t1", "t2"]
    assert cells[("be", "t2")] == "" and cells[("bn", "t1")] == "c2"
    out = tmp_path / "m.png"
    plots.main(["membership", "--membership", str(path), "--out", str(out)])
    assert png_size(out)[1] > 100
    with pytest.raises(ValueError, match="expected a membership table"):
        plots.membership_grid([{"code": "kk"}], "m.tsv")
