"""The workflow itself, run for real on tiny data: the whole DAG, single rules, reruns, resumption.

A dry run is not a test of a workflow: every test here runs jobs (the fixture `tiny_run` runs the
whole DAG once, ~2 minutes on 2 cores), except where the question is only which jobs Snakemake
*would* rerun after a config change.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from conftest import BIN, ROOT, job_counts, snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow
LANGS = ["na", "nb", "sa", "ea"]


def read_tsv(path: Path) -> list[dict]:
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def test_whole_dag_produces_a_bleu_table(tiny_run):
    rows = {r["lang"]: r for r in read_tsv(tiny_run / "results/tables/bleu.tsv")}
    assert set(rows) == set(LANGS) | {"average"}
    for lang in LANGS:
        bleu = float(rows[lang]["teacher"])
        assert math.isfinite(bleu) and 0 <= bleu <= 100
        assert int(rows[lang]["train_pairs"]) > 0
        for system in ("universal", "selective_all", "cluster_t1", "cluster_t2", "cluster_t3", "cluster_t4", "hkd"):
            assert math.isfinite(float(rows[lang][system])), (lang, system)
        score = json.loads((tiny_run / f"results/eval/teacher/{lang}.json").read_text())
        assert "tok:none" in score["signature"] and score["beam"] == 2 and score["max_len"] == [1.2, 10]
        assert 0 <= score["chrf"] <= 100 and "nc:6" in score["chrf_signature"]
        hyps = (tiny_run / f"results/eval/teacher/{lang}.hyp").read_text().splitlines()
        refs = (tiny_run / f"results/data/raw/{lang}/test.en").read_text().splitlines()
        assert len(hyps) == len(refs) == score["sentences"]
    chrf = {r["lang"]: r for r in read_tsv(tiny_run / "results/tables/chrf.tsv")}
    assert set(chrf) == set(rows) and set(chrf["na"]) == set(rows["na"])
    # every system against each baseline, per language and metric (a system is not its own baseline)
    tests = read_tsv(tiny_run / "results/tables/significance.tsv")
    tested = {(t["lang"], t["system"], t["baseline"], t["metric"]) for t in tests}
    assert len(tested) == len(tests)
    systems = [s for s in rows["na"] if s not in ("lang", "train_pairs")] + ["random_t1"]
    for lang in LANGS:
        for metric in ("BLEU", "chrF"):
            for baseline in ("teacher", "universal", "selective_all"):
                assert {(lang, s, baseline, metric) for s in systems if s != baseline} <= tested
            assert (lang, "random_t1", "cluster_t1", metric) in tested  # Table 9's test
    assert all(0 < float(t["p"]) <= 1 and "bs:1000" in t["signature"] for t in tests)
    md = (tiny_run / "results/tables/bleu.md").read_text()
    assert "signature: `nrefs:1|bs:1000" in md and "(Table 9)" in md
    # the random type: type 1's cluster sizes, trained and evaluated, not among the student's assistants
    import yaml

    clusters = yaml.safe_load((tiny_run / "results/clustering/clusters.yaml").read_text())
    assert sorted(map(len, clusters["random"].values())) == sorted(map(len, clusters["svcca_all"].values()))
    table9 = {r["lang"]: r for r in read_tsv(tiny_run / "results/tables/random.tsv")}
    assert set(table9) == set(LANGS) | {"average"} and "random_t1" not in rows["na"]
    student_map = json.loads((tiny_run / "results/student/assistants/map.json").read_text())
    assert not any(name.startswith("random/") for names in student_map.values() for name in names)
    stops = {r["model"]: r for r in read_tsv(tiny_run / "results/tables/convergence.tsv")}
    trained = len(list(tiny_run.glob("results/assistants/*/*/curve.jsonl")))
    assert len(stops) == len(LANGS) + 1 + trained + 1
    assert stops["teacher/na"]["last_epoch"] == "2" and stops["teacher/na"]["reason"] == "epoch cap, still improving"
    assert {r["reason"] for r in stops.values()} <= {"early stopping", "epoch cap", "epoch cap, still improving"}


def test_teachers_share_one_vocabulary(tiny_run):
    shared = (tiny_run / "results/data/dict.txt").read_text()
    assert "__na__ 0" in shared and "__en__ 0" in shared  # language tokens for the multilingual models
    for lang in LANGS:  # fairseq-preprocess copies the dictionary it was given: all identical
        for side in (lang, "en"):
            assert (tiny_run / f"results/data/bin/{lang}/dict.{side}.txt").read_text() == shared


def test_training_curves_are_declared_outputs(tiny_run):
    for lang in LANGS:
        records = [json.loads(line) for line in (tiny_run / f"results/teachers/{lang}/curve.jsonl").open()]
        train = [r for r in records if r["tag"] == "train"]
        valid = [r for r in records if r["tag"] == "valid"]
        assert [r["epoch"] for r in train] == [1, 2]
        assert all(math.isfinite(r["train_loss"]) for r in train)
        assert all("valid_bleu" in r for r in valid)
        metric = tiny_config()["teacher"]["default"].get("stop_metric", "bleu")  # the schema's default: bleu
        assert records[0] == {"tag": "start", "resumed_after_epoch": None, "best_checkpoint_metric": metric,
                              "maximize": metric == "bleu"}


def test_extraction_counts_every_filtered_pair(tiny_run):
    for row in read_tsv(tiny_run / "results/data/raw/counts.tsv"):
        dropped = sum(int(v) for k, v in row.items() if k.endswith("_dropped"))
        assert int(row["rows"]) + int(row["merged_in"]) == dropped + int(row["kept"])
        lines = (tiny_run / f"results/data/raw/{row['lang']}/{row['split']}.{row['lang']}").read_text().splitlines()
        assert len(lines) == int(row["kept"])


def test_single_rule_rerun_bpe(tiny_run, copy_of):
    run = copy_of(tiny_run)
    before = (run / "results/data/spm/spm.model").read_bytes()
    snakemake(run, "--configfile", str(run / "tiny.yaml"), "--cores", "1", "--allowed-rules", "train_bpe",
              "-f", "--notemp", "results/data/spm/spm.model")
    import sentencepiece as spm

    model = spm.SentencePieceProcessor(model_file=str(run / "results/data/spm/spm.model"))
    assert 100 < model.get_piece_size() <= 400
    assert (run / "results/data/spm/spm.model").read_bytes() == before  # deterministic


def test_changing_one_teacher_setting_reruns_only_that_language(tiny_run, copy_of):
    run = copy_of(tiny_run)
    config = tiny_config()
    config["teacher"]["overrides"] = {"sa": {"max_epoch": 3}}
    write_config(run / "changed.yaml", config)
    out = snakemake(run, "--configfile", str(run / "changed.yaml"), "-n").stdout
    import yaml

    clusters = yaml.safe_load((run / "results/clustering/clusters.yaml").read_text())
    clusters_with_sa = {frozenset(m) for groups in clusters.values() for m in groups.values() if "sa" in m}
    with_sa = clusters_with_sa | {frozenset(LANGS)}  # and the all-languages assistant
    # sa's teacher, its evaluation and store, the assistants it teaches, their evaluations, the stores
    # of those the student learns from (the clusters' ones), the student, its evaluation, the table
    assert job_counts(out) == {"train_teacher": 1, "evaluate_teacher": 1, "teacher_store": 1,
                               "train_assistant": len(with_sa), "evaluate_assistant": len(with_sa),
                               "assistant_store": len(clusters_with_sa), "student_assistants": 1,
                               "train_student": 1, "evaluate_student": 1, "significance": 1, "bleu_table": 1,
                               "convergence_table": 1, "all": 1,
                               # and the report's pictures and pages of what changed (and of the config)
                               "plot_curves": 3, "plot_selective": len(with_sa), "plot_alpha": 1,
                               "plot_bleu_by_size": 1, "report_tables": 1, "report_convergence": 1,
                               "report_config": 1}, out
    assert "output: results/teachers/sa/checkpoint_best.pt" in out
    for other in ("na", "nb", "ea"):
        assert f"output: results/teachers/{other}/checkpoint_best.pt" not in out


def test_changing_a_decoding_setting_reruns_every_evaluation_and_nothing_trained(tiny_run, copy_of):
    """The decoding settings (config `evaluation`) are params of every evaluation job: a changed one
    reruns each model's one evaluation job (4 teachers, the universal model, every assistant, the
    student: each over all its languages) and the tables after them; no training, no store."""
    run = copy_of(tiny_run)
    config = tiny_config()
    config["evaluation"]["max_len_b"] = 12
    write_config(run / "decoding.yaml", config)
    out = snakemake(run, "--configfile", str(run / "decoding.yaml"), "-n").stdout
    evaluated = len(list(tiny_run.glob("results/eval/assistant/*/*")))
    assert job_counts(out) == {"evaluate_teacher": len(LANGS), "evaluate_universal": 1,
                               "evaluate_assistant": evaluated, "evaluate_student": 1, "significance": 1,
                               "bleu_table": 1, "all": 1, "plot_bleu_by_size": 1, "report_tables": 1,
                               "report_config": 1}, out


def test_killed_teacher_resumes_from_its_checkpoint(tiny_run, copy_of):
    run = copy_of(tiny_run)
    config = tiny_config()
    config["teacher"]["overrides"] = {"na": {"max_epoch": 12}}
    write_config(run / "longer.yaml", config)
    target = "results/teachers/na/checkpoint_best.pt"
    old_runs = set(run.glob("results/teachers/na/work/run-*"))  # the 2-epoch run of the shared fixture
    cmd = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(run),
           "--configfile", str(run / "longer.yaml"), "--cores", "1", target]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    job = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    epochs: list[int] = []
    try:
        while time.time() < deadline and len(epochs) < 2:
            time.sleep(0.2)
            for partial in run.glob("results/teachers/na/work/run-*/curve.partial.jsonl"):
                if partial.parent in old_runs:
                    continue
                epochs = [json.loads(line)["epoch"] for line in partial.open() if '"tag": "train"' in line]
            assert job.poll() is None, "the teacher finished before it could be killed"
    finally:  # kill -9 of everything: snakemake, the job's shell, hkd.train, fairseq
        tree = [psutil.Process(job.pid), *psutil.Process(job.pid).children(recursive=True)]
        for proc in tree:
            proc.kill()
        job.wait()
        psutil.wait_procs(tree, timeout=30)
    assert len(epochs) >= 2, "no checkpoint after two epochs within the time limit"
    snakemake(run, "--configfile", str(run / "longer.yaml"), "--unlock")
    snakemake(run, "--configfile", str(run / "longer.yaml"), "--cores", "1", "--rerun-incomplete", target)
    records = [json.loads(line) for line in (run / "results/teachers/na/curve.jsonl").open()]
    starts = [r for r in records if r["tag"] == "start"]
    assert len(starts) == 2 and starts[0]["resumed_after_epoch"] is None
    assert starts[1]["resumed_after_epoch"] >= 1  # the rerun began after the epochs it had finished
    assert [r["epoch"] for r in records if r["tag"] == "train"] == list(range(1, 13))
    log = (run / "logs/train_teacher/na.log").read_text()
    assert "resuming" in log and "checkpoint_last.pt" in log


def test_clusters_file_holds_every_type_and_is_reproducible(tiny_run, copy_of):
    import yaml

    clusters = yaml.safe_load((tiny_run / "results/clustering/clusters.yaml").read_text())
    assert list(clusters) == ["svcca_all", "svcca_subset", "learned", "typology", "random"]
    for name, groups in clusters.items():
        members = sorted(lang for group in groups.values() for lang in group)
        assert members == sorted(LANGS), name  # each language in exactly one cluster of each type
    learned = read_tsv(tiny_run / "results/clustering/learned.tsv")
    assert [r["lang"] for r in learned] == LANGS and len(learned[0]) == 1 + 32
    run = copy_of(tiny_run)
    before = (run / "results/clustering/clusters.yaml").read_bytes()
    snakemake(run, "--configfile", str(run / "tiny.yaml"), "--cores", "2", "--forcerun", "cluster_type",
              "--allowed-rules", "cluster_type", "clusters", "cluster_ari", "all")
    assert (run / "results/clustering/clusters.yaml").read_bytes() == before  # byte-identical


def test_forcerun_clustering_rebuilds_only_what_depends_on_it(tiny_run, copy_of):
    run = copy_of(tiny_run)
    out = snakemake(run, "--configfile", str(run / "tiny.yaml"), "-n", "--forcerun", "cluster_type").stdout
    counts = job_counts(out)
    # the clustering, and what depends on it: assistants, their evaluation, the table; nothing upstream
    assert {"cluster_type": 4, "clusters": 1, "cluster_ari": 1, "all": 1}.items() <= counts.items(), out
    assert not {"train_teacher", "train_universal", "teacher_store", "extract_pairs"} & set(counts), out


def test_assistants_log_their_selective_flags(tiny_run):
    import yaml

    trained = {}  # one assistant per distinct set of languages
    for flags_file in tiny_run.glob("results/assistants/*/*/selective.jsonl"):
        flags = [json.loads(line) for line in flags_file.open()]
        trained[frozenset(f["lang"] for f in flags)] = flags_file.parent
    clusters = yaml.safe_load((tiny_run / "results/clustering/clusters.yaml").read_text())
    needed = {frozenset(m) for groups in clusters.values() for m in groups.values()} | {frozenset(LANGS)}
    assert set(trained) == needed
    for folder in trained.values():
        train = [r for r in map(json.loads, (folder / "curve.jsonl").open()) if r["tag"] == "train"]
        assert train and all(math.isfinite(r["train_loss"]) for r in train)
    for lang in LANGS:
        header = json.loads((tiny_run / f"results/stores/teacher/{lang}/header.json").read_text())
        assert header["k"] == 8


def test_student_learns_from_every_assistant_of_its_language(tiny_run):
    """The student's weights: per epoch and language, one alpha per clustering type whose cluster holds
    the language (C_sim), summing to 1; lambda2 logged; the places tables follow the BLEU table."""
    import yaml

    clusters = yaml.safe_load((tiny_run / "results/clustering/clusters.yaml").read_text())
    teaching = [t for t, spec in tiny_config()["clustering"]["types"].items() if spec["method"] != "random"]
    expected = {lang: sorted(f"{t}/{c}" for t in teaching for c, m in clusters[t].items() if lang in m)
                for lang in LANGS}  # the random type is a baseline (Table 9), not among the student's assistants
    records = [json.loads(line) for line in (tiny_run / "results/student/alpha.jsonl").open()]
    assert {r["epoch"] for r in records} == {1, 2}
    for record in records:
        assert sorted(record["alpha"]) == expected[record["lang"]], record
        assert sum(record["alpha"].values()) == pytest.approx(1, abs=1e-3)
        assert all(math.isfinite(p) and p >= 1 for p in record["perplexity"].values())
        assert 0.5 <= record["lambda2"] <= 3
    assert {r["lang"] for r in records} == set(LANGS)
    places = read_tsv(tiny_run / "results/tables/places.tsv")
    assert {r["table"] for r in places} == {"with_hkd", "without_hkd"}
    for row in places:
        shares = [float(v) for k, v in row.items() if k not in ("table", "band", "languages") and v != "NA"]
        assert not shares or sum(shares) == pytest.approx(100, abs=0.05), row
    student = [r for r in map(json.loads, (tiny_run / "results/student/curve.jsonl").open()) if r["tag"] == "valid"]
    assert student and all(f"valid_bleu_{lang}" in student[-1] for lang in LANGS)


def test_changing_an_assistant_or_student_setting_reruns_what_depends_on_it(tiny_run, copy_of):
    """Settings reach the jobs as params that Snakemake records: a changed assistant setting reruns
    every assistant and what follows; a changed student setting, the student and what follows only."""
    run = copy_of(tiny_run)
    config = tiny_config()
    config["assistant"]["kd_lambda"] = 0.5
    write_config(run / "assistant.yaml", config)
    counts = job_counts(snakemake(run, "--configfile", str(run / "assistant.yaml"), "-n").stdout)
    trained = len(list(tiny_run.glob("results/assistants/*/*/checkpoint_best.pt")))
    assert counts["train_assistant"] == trained and counts["train_student"] == 1, counts
    assert not {"train_teacher", "train_universal", "cluster_type"} & set(counts), counts
    config = tiny_config()
    config["student"]["lambda2_end"] = 2.0
    write_config(run / "student.yaml", config)
    counts = job_counts(snakemake(run, "--configfile", str(run / "student.yaml"), "-n").stdout)
    assert counts == {"train_student": 1, "evaluate_student": 1, "significance": 1, "bleu_table": 1,
                      "convergence_table": 1, "all": 1, "plot_curves": 1, "plot_alpha": 1,
                      "plot_bleu_by_size": 1, "report_tables": 1, "report_convergence": 1,
                      "report_config": 1}, counts


def test_local_corpus_follows_its_source(tmp_path):
    """A local corpus in a folder named with a quote and a space, given with ~: a bad line fails the run,
    naming file, line and byte; once fixed, a plain rerun succeeds; a corpus replaced by an older file is
    read again too."""
    home = tmp_path / "home"
    source = home / "O'Brien ted"
    subprocess.run([str(BIN / "python"), "-m", "hkd.synthetic", "--out-dir", str(source), "--seed", "1",
                    "--scale", "0.3"], check=True, capture_output=True)
    train = source / "all_talks_train.tsv"
    good = train.read_bytes()
    lines = good.split(b"\n")
    bad_line = next(i for i, line in enumerate(lines) if sum(map(len, lines[:i])) > 9000)  # past the first 8 KB
    lines[bad_line] = lines[bad_line][:7] + b"\xff" + lines[bad_line][7:]
    train.write_bytes(b"\n".join(lines))
    config = tiny_config()
    config["corpus"] = {"source": "local", "local_path": "~/O'Brien ted"}
    config["clustering"].update(clusters="clusters.yaml", typology="syntax_knn")
    work = tmp_path / "work"
    work.mkdir()
    write_config(work / "local.yaml", config)
    env = {"HOME": str(home)}
    args = ("results/data/raw/counts.tsv", "--configfile", str(work / "local.yaml"), "--cores", "1")
    failed = snakemake(work, *args, check=False, env=env)
    assert failed.returncode != 0
    log = (work / "logs/local_corpus.log").read_text()
    assert f"{train}:{bad_line + 1}: invalid UTF-8 at byte 7 of the line" in log, log
    train.write_bytes(good)  # fixed
    snakemake(work, *args, env=env)
    counts = {(r["lang"], r["split"]): r for r in read_tsv(work / "results/data/raw/counts.tsv")}
    assert int(counts["na", "train"]["rows"]) == good.count(b"\n") - 1
    # replaced by a smaller corpus whose time is older than the copy's: read again all the same
    train.write_bytes(b"".join(good.splitlines(keepends=True)[:-5]))
    os.utime(train, (946684800, 946684800))
    planned = snakemake(work, *args, "-n", env=env).stdout
    assert job_counts(planned).get("local_corpus") == 1, planned
    snakemake(work, *args, env=env)
    counts = {(r["lang"], r["split"]): r for r in read_tsv(work / "results/data/raw/counts.tsv")}
    assert int(counts["na", "train"]["rows"]) == good.count(b"\n") - 6


def test_editing_the_distillation_code_reruns_every_assistant_and_the_student_and_no_teacher(tiny_run):
    """Every rule declares the code it runs (hkd.codefiles): an edit of hkd/kd_loss.py (the selective
    and adaptive KD maths) reruns the assistants and the student, not the teachers. The edit changes the
    file's content: Snakemake 9 compares the checksums of small inputs, so a bare touch reruns nothing."""
    kd_loss = ROOT / "hkd" / "kd_loss.py"
    before, text = kd_loss.stat(), kd_loss.read_bytes()
    try:
        kd_loss.write_bytes(text + b"# an edit\n")
        counts = job_counts(snakemake(tiny_run, "--configfile", str(tiny_run / "tiny.yaml"), "-n").stdout)
    finally:
        kd_loss.write_bytes(text)
        os.utime(kd_loss, ns=(before.st_atime_ns, before.st_mtime_ns))
    trained = len(list(tiny_run.glob("results/assistants/*/*/checkpoint_best.pt")))
    assert counts["train_assistant"] == trained and counts["train_student"] == 1, counts
    assert not {"train_teacher", "train_universal", "teacher_store", "evaluate_teacher", "cluster_type"} & set(
        counts), counts


def test_a_finished_run_copied_to_another_folder_has_nothing_to_do(tiny_run, tmp_path):
    """Inputs are paths relative to the working directory (the code through the run folder's links):
    a copy elsewhere, at another depth, is as finished as the original."""
    result = snakemake(tiny_run, "--configfile", str(tiny_run / "tiny.yaml"), "-n")
    assert "Nothing to be done" in result.stdout + result.stderr
    moved = tmp_path / "elsewhere" / "deeper" / "run"
    shutil.copytree(tiny_run, moved, symlinks=True, ignore=shutil.ignore_patterns("locks", "conda"))
    result = snakemake(moved, "--configfile", str(moved / "tiny.yaml"), "-n")
    assert "Nothing to be done" in result.stdout + result.stderr, result.stdout[-3000:] + result.stderr[-3000:]
