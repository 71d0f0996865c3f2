"""The rehearsal (config/rehearsal.yaml): the paper's config with only sizes changed, its synthetic
corpus plan (hkd.synthetic --languages), and the table beside the paper's Table 6 (hkd.paper_table)."""

from pathlib import Path

import pytest
import yaml

from hkd import paper_table, synthetic

ROOT = Path(__file__).resolve().parent.parent
# keys (dotted paths) whose values are sizes: the only ones the rehearsal may change
SIZE_KEYS = {
    "name", "corpus", "bpe.vocab_size", "bpe.sample_sentences",
    "evaluation.bands", "evaluation.max_len_a", "evaluation.max_len_b",
    "assistant.selective_interval", "student.anneal_k", "student.anneal_x0",
}
MODEL_SIZE_KEYS = {"encoder_layers", "decoder_layers", "embed_dim", "ffn_dim", "attention_heads", "warmup_updates",
                   "max_tokens", "max_epoch", "patience", "save_interval_updates"}


def flatten(d, prefix=""):
    out = {}
    for key, value in d.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path != "corpus":
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def load(name):
    return yaml.safe_load((ROOT / "config" / name).read_text())


def test_rehearsal_is_the_papers_config_with_only_sizes_changed():
    paper, rehearsal = flatten(load("ted53.yaml")), flatten(load("rehearsal.yaml"))
    changed = {k for k in paper.keys() | rehearsal.keys() if paper.get(k) != rehearsal.get(k)}
    not_sizes = {k for k in changed if k not in SIZE_KEYS and k.rsplit(".", 1)[-1] not in MODEL_SIZE_KEYS}
    assert not_sizes == set()
    r = load("rehearsal.yaml")
    assert r["languages"] == load("ted53.yaml")["languages"] and r["merge"] == {"pt-br": "pt", "fr-ca": "fr"}
    assert r["clustering"]["clusters"] == "config/paper_clusters.yaml"
    assert r["clustering"]["allow_missing"] == {"svcca23": ["sr"]}
    assert r["assistant"]["selective_all"] is True


def test_rehearsal_plan_has_the_53_languages_in_the_papers_size_ratios():
    plan = synthetic.read_plan(ROOT / "config" / "rehearsal_languages.tsv")
    sizes = {code: rows for code, _, _, rows, _ in plan}
    ted = [line.split("\t") for line in (ROOT / "config" / "ted53_languages.tsv").read_text().splitlines()
           if line and not line.startswith(("#", "code"))]
    paper = {row[0]: round(float(row[2]) * 1000) for row in ted}
    assert set(sizes) == set(paper) | {"pt-br", "fr-ca"}
    merged = {code: sizes[code] + sizes.get({"pt": "pt-br", "fr": "fr-ca"}.get(code, ""), 0) for code in paper}
    assert merged == paper


@pytest.mark.parametrize("text, message", [
    ("code\tname\tfamily\n", "header must be code, name, family, train_rows"),
    ("code\tname\tfamily\ttrain_rows\nxx\tX\tnorth\t10\nyy\tY\tnowhere\t10\n", "line 3: family 'nowhere'"),
    ("code\tname\tfamily\ttrain_rows\nxx\tX\tnorth\t10\nxx\tX\tsouth\t10\n", "line 3: 'xx' is planned twice"),
    ("code\tname\tfamily\ttrain_rows\nxx\tX\tnorth\tmany\nyy\tY\teast\t5\n", "line 2: train_rows 'many'"),
    ("code\tname\tfamily\ttrain_rows\nen\tEnglish\tnorth\t10\nyy\tY\teast\t5\n", "line 2: 'en' is not a source"),
    ("# only a comment\ncode\tname\tfamily\ttrain_rows\nxx\tX\tnorth\t10\n", "plans 1 language"),
])
def test_bad_plans_name_the_file_and_line(tmp_path, text, message):
    (tmp_path / "plan.tsv").write_text(text)
    with pytest.raises(synthetic.PlanError, match=message):
        synthetic.read_plan(tmp_path / "plan.tsv")


def test_a_plan_gives_its_codes_as_columns_and_its_sizes(tmp_path):
    (tmp_path / "plan.tsv").write_text("code\tname\tfamily\ttrain_rows\n"
                                       "kk\tKazakh\teast\t3300\npt\tPortuguese\tsouth\t18912\npt-br\tPt BR\tsouth\t4728\n")
    assert synthetic.main(["--out-dir", str(tmp_path / "out"), "--scale", "0.01", "--languages", str(tmp_path / "plan.tsv")]) == 0
    header = (tmp_path / "out" / "all_talks_train.tsv").read_text().split("\n", 1)[0].split("\t")
    assert header == ["talk_name", "en", "kk", "pt", "pt-br"]
    rows = [line.split("\t") for line in (tmp_path / "out" / "languages.tsv").read_text().splitlines()[1:]]
    assert {r[0]: int(r[4]) for r in rows} == {"kk": 33, "pt": 189, "pt-br": 47}
    # the demo's corpus does not change: same seed, no plan, the ten languages
    assert synthetic.main(["--out-dir", str(tmp_path / "demo"), "--scale", "0.05"]) == 0
    demo = (tmp_path / "demo" / "all_talks_train.tsv").read_text().split("\n", 1)[0].split("\t")[2:]
    assert demo == [code for code, *_ in synthetic.LANGUAGES]


def test_paper_table_sets_the_papers_numbers_beside_the_runs(tmp_path):
    run = tmp_path / "bleu.tsv"
    run.write_text("lang\ttrain_pairs\tteacher\tuniversal\thkd\n"
                   "kk\t33\t0.10\t0.20\t0.30\nxx\t40\t1.00\tNA\t2.00\naverage\t73\t0.55\t0.20\t1.15\n")
    assert paper_table.main(["--table", str(run), "--paper", str(ROOT / "config" / "paper_table6.tsv"),
                             "--out-tsv", str(tmp_path / "vs.tsv"), "--out-md", str(tmp_path / "vs.md")]) == 0
    rows = [line.split("\t") for line in (tmp_path / "vs.tsv").read_text().splitlines()]
    header = rows[0]
    assert header[:5] == ["lang", "train_pairs", "train_pairs_paper", "teacher", "teacher_paper"]
    assert len(header) == 3 + 3 * 8 and header[5] == "teacher_diff"
    kk = dict(zip(header, rows[1]))
    assert (kk["train_pairs_paper"], kk["teacher"], kk["teacher_paper"], kk["hkd_paper"]) == ("3300", "0.10", "3.42", "6.61")
    assert kk["cluster_t1"] == "NA" and kk["cluster_t1_paper"] == "7.00" and kk["cluster_t1_diff"] == "NA"
    assert kk["teacher_diff"] == "-3.32"  # this run - the paper
    xx = dict(zip(header, rows[2]))
    assert xx["teacher_paper"] == "NA" and xx["teacher"] == "1.00"
    average = dict(zip(header, rows[3]))
    assert average["teacher_paper"] == "3.42" and average["train_pairs_paper"] == "3300"
    assert average["teacher_diff"] == f"{float(average['teacher']) - 3.42:.2f}"
    md = (tmp_path / "vs.md").read_text()
    assert "Note: the run has no column selective_all, cluster_t1" in md and "the paper has no row for xx" in md


def test_paper_table_errors_name_the_file(tmp_path):
    (tmp_path / "bad.tsv").write_text("lang\ttrain_pairs\tteacher\nkk\t33\n")
    out = ["--out-tsv", str(tmp_path / "o.tsv"), "--out-md", str(tmp_path / "o.md")]
    assert paper_table.main(["--table", str(tmp_path / "bad.tsv"), "--paper", str(ROOT / "config" / "paper_table6.tsv"), *out]) == 1
    with pytest.raises(paper_table.TableError, match=r"bad.tsv: line 2: 2 fields, the header has 3"):
        paper_table.read_table(tmp_path / "bad.tsv", "lang")
