"""The resumable training wrapper (hkd.train) and the fairseq argument builder (hkd.fairseq_args)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch

from hkd import fairseq_args, train


def test_run_key_changes_with_any_argument_and_only_then():
    args = fairseq_args.bilingual_args("kk", "en", {"embed_dim": 64})
    assert train.run_key(args, "d") == train.run_key(list(args), "d")
    assert train.run_key(args, "d") != train.run_key(fairseq_args.bilingual_args("kk", "en", {"embed_dim": 32}), "d")
    assert train.run_key(args, "d") != train.run_key(args, "other")


def test_run_key_changes_when_an_input_is_rebuilt(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.bin").write_bytes(b"1234")
    key = train.run_key(["--x"], data, train.fingerprint([data]))
    assert key == train.run_key(["--x"], data, train.fingerprint([data]))  # a rerun after a kill resumes
    (data / "train.bin").write_bytes(b"12345")
    assert key != train.run_key(["--x"], data, train.fingerprint([data]))  # rebuilt data: start afresh


def test_merge_curve_keeps_the_latest_record_of_a_redone_epoch():
    records = [
        {"tag": "start", "resumed_after_epoch": None},
        {"tag": "train", "epoch": 1, "train_loss": "5.0"},
        {"tag": "valid", "epoch": 1, "valid_bleu": "1.5"},
        {"tag": "valid", "epoch": 2, "valid_bleu": "2.0"},  # cut off before its train record
        {"tag": "start", "resumed_after_epoch": 1},
        {"tag": "valid", "epoch": 2, "valid_bleu": "2.5"},
        {"tag": "train", "epoch": 2, "train_loss": "4.0"},
    ]
    merged = train.merge_curve(records)
    assert [r["tag"] for r in merged] == ["start", "start", "train", "valid", "train", "valid"]
    assert merged[-1] == {"tag": "valid", "epoch": 2, "valid_bleu": 2.5}
    assert merged[2]["train_loss"] == 5.0  # numbers, not fairseq's strings


def test_half_written_last_record_is_skipped_but_a_bad_middle_one_is_an_error(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"tag": "train", "epoch": 1}\n{"tag": "tr')
    assert train.read_jsonl(path) == [{"tag": "train", "epoch": 1}]
    path.write_text('{"tag": "train", "epoch": 1}\nnot json\n{"tag": "train", "epoch": 2}\n')
    with pytest.raises(ValueError, match="c.jsonl:2"):
        train.read_jsonl(path)


def test_checkpoint_epoch_reads_the_finished_epoch(tmp_path):
    path = tmp_path / "checkpoint_last.pt"
    assert train.checkpoint_epoch(path) is None
    torch.save({"extra_state": {"train_iterator": {"version": 2, "epoch": 4, "iterations_in_epoch": 0}}}, path)
    assert train.checkpoint_epoch(path) == 3  # saved after epoch 3: the iterator names the next one
    torch.save({"extra_state": {"train_iterator": {"version": 2, "epoch": 4, "iterations_in_epoch": 7}}}, path)
    assert train.checkpoint_epoch(path) == 3  # saved mid-epoch 4: epoch 3 is the last finished one


def test_settings_override_and_unknown_setting():
    s = fairseq_args.merged_settings({"embed_dim": 64, "max_epoch": 5}, {"max_epoch": 9})
    assert s["embed_dim"] == 64 and s["max_epoch"] == 9 and s["dropout"] == fairseq_args.DEFAULTS["dropout"]
    with pytest.raises(KeyError, match="embed_size"):
        fairseq_args.merged_settings({"embed_size": 64})


def test_bilingual_args_carry_every_setting():
    args = fairseq_args.bilingual_args("kk", "en", {"encoder_layers": 3, "lr": 0.001, "eval_bleu_beam": 4})
    pairs = dict(zip(args[::1], args[1::1]))
    assert pairs["--source-lang"] == "kk" and pairs["--encoder-layers"] == "3" and pairs["--lr"] == "0.001"
    assert json.loads(pairs["--eval-bleu-args"]) == {"beam": 4, "max_len_a": 1.2, "max_len_b": 10}
    assert " " not in "".join(args)  # safe to pass through a shell once quoted
    assert pairs["--best-checkpoint-metric"] == "bleu" and "--maximize-best-checkpoint-metric" in args


def test_stop_metric_loss_stops_on_dev_loss_and_still_records_dev_bleu():
    args = fairseq_args.bilingual_args("kk", "en", {"stop_metric": "loss", "patience": 4})
    pairs = dict(zip(args, args[1:]))
    assert pairs["--best-checkpoint-metric"] == "loss" and pairs["--patience"] == "4"
    assert "--maximize-best-checkpoint-metric" not in args and "--eval-bleu" in args
    with pytest.raises(ValueError, match="stop_metric"):
        fairseq_args.bilingual_args("kk", "en", {"stop_metric": "ppl"})


def test_student_args_parse_in_fairseq_with_the_config_settings():
    """The student's arguments, built from the config's `student` keys, are what fairseq-train parses:
    the plugin's task and criterion options carry every setting; the weakest-assistant rule only when set."""
    import hkd_fairseq  # noqa: F401  (registers the task and criteria)
    from fairseq import options

    student = {"settings": {"embed_dim": 32}, "sampling_temperature": 5, "lambda1": 0.5, "lambda2_start": 0.5,
               "lambda2_end": 3.0, "anneal_k": 0.02, "anneal_x0": 400, "alpha_temperature": 2.0,
               "exclude_weakest_variance": None}
    args = fairseq_args.student_args(["na", "nb"], "en", student, "S/{type}/{cluster}/{lang}", "map.json",
                                     "bleu.json", "alpha.jsonl")
    assert "--exclude-weakest-variance" not in args and "--assistant-bleu" not in args
    parsed = options.parse_args_and_arch(options.get_training_parser(), ["data", *args])
    assert (parsed.task, parsed.criterion, parsed.langs) == ("hkd_multilingual", "adaptive_kd", "na,nb")
    assert (parsed.kd_lambda1, parsed.kd_lambda2_start, parsed.kd_lambda2_end) == (0.5, 0.5, 3.0)
    assert (parsed.kd_anneal_k, parsed.kd_anneal_x0, parsed.alpha_temperature) == (0.02, 400, 2.0)
    assert parsed.assistant_stores == "S/{type}/{cluster}/{lang}" and parsed.alpha_log == "alpha.jsonl"
    assert parsed.best_checkpoint_metric == "bleu" and parsed.eval_bleu  # early stopping on dev BLEU
    args = fairseq_args.student_args(["na"], "en", {**student, "settings": {}, "exclude_weakest_variance": 5},
                                     "S/{type}/{cluster}/{lang}", "map.json", "bleu.json", "a.jsonl")
    parsed = options.parse_args_and_arch(options.get_training_parser(), ["data", *args])
    assert parsed.exclude_weakest_variance == 5 and parsed.assistant_bleu == "bleu.json"


def test_mixed_precision_only_on_a_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert fairseq_args.device_args(mixed_precision=True) == ["--cpu"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert fairseq_args.device_args(mixed_precision=True) == ["--fp16"] and fairseq_args.device_args() == []


def test_run_placeholder_is_the_run_folder_and_state_does_not_leak_into_a_new_run(tmp_path, monkeypatch):
    """`{run}` in an argument becomes the run's folder; a run with other settings gets another folder,
    and the state file of the first is removed with it (a stale state would be refused)."""
    seen = []

    def fake_fairseq(cmd, env):
        run_dir = Path(cmd[cmd.index("--save-dir") + 1])
        state = Path(cmd[cmd.index("--selective-state") + 1])
        seen.append((run_dir, state, state.exists()))
        state.write_text("{}")
        torch.save({"extra_state": {"train_iterator": {"epoch": 2}}}, run_dir / "checkpoint_best.pt")
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(train.subprocess, "run", fake_fairseq)
    for tau in ("1.0", "0.0"):
        train.train(tmp_path / "data", tmp_path / "work", tmp_path / "out.pt", tmp_path / "curve.jsonl",
                    ["--selective-tau", tau, "--selective-state", "{run}/selective_state.json"])
    (first, first_state, existed), (second, second_state, existed_again) = seen
    assert first_state == first / "selective_state.json" and second_state == second / "selective_state.json"
    assert first != second and not first.exists() and not existed and not existed_again


def test_patience_state_counts_validations_since_the_best():
    """The early-stopping count after the epoch a run resumes from: best metric and validations since."""
    curve = [{"tag": "start"}] + [{"tag": "valid", "epoch": e, "valid_bleu": b}
                                  for e, b in [(1, 1.0), (2, 3.0), (3, 2.0), (4, 2.5), (5, 9.0)]]
    args = ["--best-checkpoint-metric", "bleu", "--maximize-best-checkpoint-metric"]
    assert train.patience_state(curve, args, 4) == {"metric": "bleu", "best": 3.0, "num_runs": 2}
    assert train.patience_state(curve, args, 5)["num_runs"] == 0
    assert train.patience_state(curve, args, None) is None  # a fresh start: fairseq's own zero
    # loss (fairseq's default metric) is minimised; an epoch redone after a kill counts once (the latest)
    losses = [{"tag": "valid", "epoch": 1, "valid_loss": 5.0}, {"tag": "valid", "epoch": 2, "valid_loss": 4.0},
              {"tag": "valid", "epoch": 2, "valid_loss": 6.0}, {"tag": "valid", "epoch": 3, "valid_loss": 5.5}]
    assert train.patience_state(losses, [], 3) == {"metric": "loss", "best": 5.0, "num_runs": 2}


def test_nothing_left_to_train_at_the_last_epoch_or_when_patience_ran_out():
    args = ["--max-epoch", "4", "--patience", "2"]
    assert train.nothing_left(args, None, None) is None  # a fresh start
    assert train.nothing_left(args, 3, {"metric": "bleu", "best": 1.0, "num_runs": 1}) is None
    assert "max-epoch 4" in train.nothing_left(args, 4, None)
    assert "stopped early" in train.nothing_left(args, 3, {"metric": "bleu", "best": 1.0, "num_runs": 2})
    assert train.nothing_left(["--max-epoch", "0", "--patience", "-1"], 50, {"num_runs": 9, "metric": "x"}) is None
    assert train.option(["--max-epoch", "2", "--max-epoch=5"], "--max-epoch") == "5"  # the last one counts


def test_publish_names_a_file_of_the_run_folder():
    assert train.parse_publish(["selective.jsonl=out/a/selective.jsonl"]) == [
        ("selective.jsonl", Path("out/a/selective.jsonl"))]
    for bad in ("selective.jsonl", "=out", "../x=out", "/abs=out"):
        with pytest.raises(ValueError, match="NAME=PATH"):
            train.parse_publish([bad])


def finished_run(tmp_path, fairseq_args, epochs=2):
    """A run folder as a job killed right after its last epoch leaves it: checkpoints, the partial curve
    and the plugin's log, but none of the declared outputs."""
    run_dir = tmp_path / "work" / f"run-{train.run_key(fairseq_args, tmp_path / 'data')}"
    run_dir.mkdir(parents=True)
    state = {"extra_state": {"train_iterator": {"epoch": epochs + 1, "iterations_in_epoch": 0}}}
    torch.save(state, run_dir / "checkpoint_last.pt")
    torch.save(state, run_dir / "checkpoint_best.pt")
    records = [{"tag": "start", "resumed_after_epoch": None}]
    for epoch in range(1, epochs + 1):
        records += [{"tag": "train", "epoch": epoch, "train_loss": 5.0 - epoch},
                    {"tag": "valid", "epoch": epoch, "valid_bleu": 1.0}]
    (run_dir / "curve.partial.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (run_dir / "selective.jsonl").write_text('{"epoch": 1, "lang": "xa", "kd": true}\n')
    return run_dir


@pytest.mark.parametrize("fairseq_args", [
    ["--max-epoch", "2", "--selective-log", "{run}/selective.jsonl"],  # trained to its last epoch
    ["--max-epoch", "9", "--patience", "1", "--best-checkpoint-metric", "bleu",
     "--maximize-best-checkpoint-metric", "--selective-log", "{run}/selective.jsonl"],  # stopped early
])
def test_a_run_with_nothing_left_to_train_publishes_every_output_without_fairseq(tmp_path, monkeypatch,
                                                                                 fairseq_args):
    """Killed after its last epoch, before Snakemake saw the job end (which then removes the declared
    outputs): the rerun publishes all of them from the run's folder and trains nothing (fairseq would
    train one more epoch of a run that stopped early)."""
    run_dir = finished_run(tmp_path, fairseq_args)
    monkeypatch.setattr(train.subprocess, "run", lambda *a, **k: pytest.fail("fairseq started again"))
    out = tmp_path / "out"
    (out / ".checkpoint_best.pt.abc.tmp").parent.mkdir()
    (out / ".checkpoint_best.pt.abc.tmp").write_bytes(b"left by a killed copy")
    train.train(tmp_path / "data", tmp_path / "work", out / "checkpoint_best.pt", out / "curve.jsonl",
                fairseq_args, outputs=[("selective.jsonl", out / "selective.jsonl")])
    assert (out / "checkpoint_best.pt").read_bytes() == (run_dir / "checkpoint_best.pt").read_bytes()
    assert (out / "selective.jsonl").read_text() == (run_dir / "selective.jsonl").read_text()
    curve = [json.loads(line) for line in (out / "curve.jsonl").open()]
    assert [r["tag"] for r in curve] == ["start", "train", "valid", "train", "valid"]  # no new start record
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint_best.pt", "curve.jsonl", "selective.jsonl"]


def test_a_published_file_the_run_never_wrote_is_an_error(tmp_path, monkeypatch):
    finished_run(tmp_path, ["--max-epoch", "2"])
    with pytest.raises(RuntimeError, match="alpha.jsonl"):
        train.train(tmp_path / "data", tmp_path / "work", tmp_path / "c.pt", tmp_path / "c.jsonl",
                    ["--max-epoch", "2"], outputs=[("alpha.jsonl", tmp_path / "alpha.jsonl")])
