"""Benchmark (prints figures; not a test): the cost of one teacher-assistant training step with
cached top-k KD (hkd.topk_store), with plain label-smoothed NLL, and with online teachers, on the
same batches; and the store's bytes per target token.

    PYTHONPATH=. python bench/kd_step.py [--threads 1] [--clock cpu|wall] [--vocab 8000] [--steps 6] \
        [--assistant paper|small] [--phase assistant|student] [--device cpu|cuda] [--fp16]

Models as in the paper: teachers 2 layers, 256 / 1024 (embedding / FFN), 4 heads; the assistant 6
layers, 512 / 1024, 8 heads (``--assistant small``: 3 layers, 256 / 1024, for slow machines). A
cluster of 4 languages with one teacher each; batches of ``--tokens`` target tokens. Modes, each
forward + loss + backward + Adam step of the assistant:

- nll: label-smoothed NLL only (the baseline);
- cached: + the batch's top-k read from a memory-mapped store (k = ``--k``) + the KD term (Eq. 2);
- online-1: per-language batches (hkd_multilingual's default): that language's teacher runs on the
  batch, then the KD term;
- online-mixed: batches mixing the 4 languages: each teacher runs on its rows;
- online-all4: all 4 teachers run on the whole batch (what an ensemble of a cluster's 4 teachers
  costs per batch);
- online-all4-ta: 4 teachers of the assistant's size on the whole batch: the student phase's adaptive
  KD over 4 teacher-assistants (issue 6), where a teacher's forward pass is no longer small.

``--phase student`` times the student's step instead (HKD phase 2, adaptive KD, hkd.adaptive), the
student and its 4 teacher-assistants all of the ``--assistant`` shape, per-language batches:

- nll: label-smoothed NLL only (the baseline);
- adaptive-cached: the batch's top-k and reference log-probs of 4 assistants read from 4 memory-mapped
  stores + alpha from the perplexities + the alpha-weighted KD term (Eq. 3-4);
- adaptive-online: the 4 assistants run on the batch (top-k and reference log-probs), then the same.

Timing rounds interleave the modes (noise of a shared machine hits all alike); ratios are medians over
rounds of the per-round ratios (a round's modes share their batches).
The default clock is the process's CPU time on 1 thread, which other jobs on a shared machine disturb
less than elapsed time (still +-10% per step); ``--clock wall --threads N`` measures elapsed time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from argparse import Namespace
from pathlib import Path

import numpy as np
import torch

from hkd import topk_store as TS
from hkd.kd_loss import selective_kd_loss
from hkd.adaptive import adaptive_kd_loss, logistic_anneal
from hkd_fairseq.multilingual_dataset import attach_assistants, attach_topk

LANGS = 4


def build_model(dictionary, layers: int, dim: int, ffn: int, heads: int):
    from fairseq.models.transformer import TransformerModel, base_architecture

    args = Namespace(encoder_layers=layers, decoder_layers=layers, encoder_embed_dim=dim, decoder_embed_dim=dim,
                     encoder_ffn_embed_dim=ffn, decoder_ffn_embed_dim=ffn, encoder_attention_heads=heads,
                     decoder_attention_heads=heads, share_decoder_input_output_embed=True, dropout=0.1,
                     max_source_positions=1024, max_target_positions=1024)
    base_architecture(args)
    task = Namespace(source_dictionary=dictionary, target_dictionary=dictionary)
    return TransformerModel.build_model(args, task)


def make_batches(dictionary, n_batches: int, tokens: int, rng: np.random.Generator, mixed: bool):
    """Random sentences of 10-40 tokens; each batch ~`tokens` target tokens, one language or mixed."""
    pad, eos, low = dictionary.pad(), dictionary.eos(), dictionary.nspecial
    batches, sentence = [], 0
    for b in range(n_batches):
        lens, total = [], 0
        while total < tokens:
            lens.append(int(rng.integers(10, 41)))
            total += lens[-1]
        bsz, src_len, tgt_len = len(lens), max(lens) + 1, max(lens)
        src = torch.full((bsz, src_len), pad)
        tgt = torch.full((bsz, tgt_len), pad)
        prev = torch.full((bsz, tgt_len), pad)
        for i, n in enumerate(lens):
            words = torch.from_numpy(rng.integers(low, len(dictionary), n))
            src[i, src_len - n - 1:] = torch.cat([words, torch.tensor([eos])])  # left-padded source
            tgt[i, :n] = torch.cat([words[1:], torch.tensor([eos])])
            prev[i, :n] = torch.cat([torch.tensor([eos]), words[:-1]])
        lang = torch.from_numpy(rng.integers(0, LANGS, bsz)) if mixed else torch.full((bsz,), b % LANGS)
        batches.append({"net_input": {"src_tokens": src, "src_lengths": torch.tensor(lens) + 1,
                                      "prev_output_tokens": prev},
                        "target": tgt, "lang_id": lang, "pair_index": torch.arange(sentence, sentence + bsz),
                        "ntokens": int(sum(lens))})
        sentence += bsz
    return batches


def write_store(path: Path, batches, k: int, vocab: int, rng, ref: bool) -> TS.TopkStore:
    sizes = np.concatenate([b["target"].ne(1).sum(1).numpy() for b in batches])
    writer = TS.StoreWriter(path, sizes, k, vocab, ref_lprobs=ref)
    for s, n in enumerate(sizes):
        probs = np.sort(rng.random((n, k)).astype(np.float32), axis=1)[:, ::-1] / k
        writer.write(s, rng.integers(0, vocab, (n, k)), probs, -rng.random(n) if ref else None)
    writer.finish(TS.DataSignature("benchmark", len(sizes), int(sizes.sum()), "-", "-"))
    return TS.TopkStore(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    parser.add_argument("--vocab", type=int, default=8000, help="dictionary size (the paper: ~32k BPE)")
    parser.add_argument("--tokens", type=int, default=1024, help="target tokens per batch")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--steps", type=int, default=6, help="timed rounds, one step per mode each (after 1 warm-up)")
    parser.add_argument("--assistant", choices=["paper", "small"], default="paper")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phase", choices=["assistant", "student"], default="assistant",
                        help="time the teacher-assistant's step (selective KD) or the student's (adaptive KD)")
    parser.add_argument("--device", default="cpu", help="student phase: cpu or cuda")
    parser.add_argument("--fp16", action="store_true", help="student phase on cuda: autocast to float16")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    from fairseq.data import Dictionary

    dictionary = Dictionary()
    for i in range(args.vocab - dictionary.nspecial):
        dictionary.add_symbol(f"w{i}")
    pad = dictionary.pad()
    shape = (6, 512, 1024, 8) if args.assistant == "paper" else (3, 256, 1024, 4)
    if args.phase == "student":
        return bench_student(args, dictionary, shape, rng)
    assistant = build_model(dictionary, *shape)
    teachers = [build_model(dictionary, 2, 256, 1024, 4).eval() for _ in range(LANGS)]
    big_teachers = [build_model(dictionary, *shape).eval() for _ in range(LANGS)]
    optimizer = torch.optim.Adam(assistant.parameters(), lr=1e-4)
    n = args.steps + 1
    per_lang = make_batches(dictionary, n, args.tokens, rng, mixed=False)
    mixed = make_batches(dictionary, n, args.tokens, rng, mixed=True)
    tmp = tempfile.TemporaryDirectory()
    store = write_store(Path(tmp.name) / "store", per_lang, args.k, len(dictionary), rng, ref=False)
    store_ref = write_store(Path(tmp.name) / "store_ref", per_lang, args.k, len(dictionary), rng, ref=True)

    def teacher_topk(batch, teacher, rows):
        with torch.no_grad():
            net = {key: v[rows] for key, v in batch["net_input"].items()}
            ids, probs, _ = TS.model_topk(teacher, net, batch["target"][rows], args.k, pad)
        return ids, probs

    def step(batch, mode):
        batch = {**batch}
        if mode == "cached":
            attach_topk(batch, pad, lambda lang, rows: store.lookup(batch["pair_index"][rows].numpy(),
                                                                    length=batch["target"].size(1)))
        elif mode in ("online-1", "online-mixed"):
            attach_topk(batch, pad, lambda lang, rows: teacher_topk(batch, teachers[lang], rows))
        elif mode in ("online-all4", "online-all4-ta"):
            rows = torch.arange(len(batch["target"]))
            pool = teachers if mode == "online-all4" else big_teachers
            results = [teacher_topk(batch, t, rows) for t in pool]  # 4 teachers on every row
            batch["kd_topk_ids"], batch["kd_topk_probs"] = results[0]
            batch["kd_available"] = torch.ones(len(rows), dtype=torch.bool)
        assistant.train()
        optimizer.zero_grad()
        out = assistant(**batch["net_input"])
        lprobs = assistant.get_normalized_probs(out, log_probs=True)  # [B, T, V]
        terms = selective_kd_loss(lprobs, batch["target"], pad, batch.get("kd_topk_ids"), batch.get("kd_topk_probs"),
                                  batch.get("kd_available"), lam=0.6, epsilon=0.1)
        (terms.loss / batch["ntokens"]).backward()
        optimizer.step()

    modes = {"nll": per_lang, "cached": per_lang, "online-1": per_lang, "online-mixed": mixed, "online-all4": per_lang,
             "online-all4-ta": per_lang}
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    times = {m: [] for m in modes}
    for i in range(n):
        for mode, batches in modes.items():
            start = clock()
            step(batches[i], mode)
            if i > 0:  # the first round warms up
                times[mode].append(clock() - start)
    lookup = []
    for b in per_lang:
        start = clock()
        store.lookup(b["pair_index"].numpy(), length=b["target"].size(1))
        lookup.append(clock() - start)

    median = {m: statistics.median(t) for m, t in times.items()}

    def ratio(a, b):  # median over rounds of the per-round ratio: the rounds share their batches
        return statistics.median(x / y for x, y in zip(times[a], times[b]))

    print(f"assistant {args.assistant} {shape[0]} layers {shape[1]}/{shape[2]}; teachers 2 layers 256/1024 x {LANGS}; "
          f"vocab {len(dictionary)}, k {args.k}, ~{args.tokens} target tokens/batch, {args.threads} threads, "
          f"{args.clock} time, {args.steps} timed rounds")
    print(f"{'mode':<16}{'median s':>10}{'min s':>8}{'x nll':>8}{'cached faster by':>18}")
    for m in modes:
        print(f"{m:<16}{median[m]:>10.3f}{min(times[m]):>8.3f}{ratio(m, 'nll'):>8.3f}{ratio(m, 'cached'):>17.2f}x")
    print(f"store lookup per batch: {statistics.median(lookup) * 1000:.2f} ms")
    for s, label in ((store, "ids uint16 + probs float16"), (store_ref, "+ ref_lprobs float32")):
        size = sum(f.stat().st_size for f in s.path.iterdir())
        print(f"store bytes per target token (k={args.k}, {label}): {size / s.header['tokens']:.2f}")
    cached = ratio("cached", "nll")
    print(f"target cached <= 1.15x nll: {'met' if cached <= 1.15 else 'NOT met'} ({cached:.3f}x)")
    for m in ("online-1", "online-mixed", "online-all4", "online-all4-ta"):
        speedup = ratio(m, "cached")
        print(f"target cached >= 2x faster than {m}: {'met' if speedup >= 2 else 'NOT met'} ({speedup:.2f}x)")
    tmp.cleanup()
    return 0


def bench_student(args, dictionary, shape, rng) -> int:
    """The student's step: plain NLL vs adaptive KD from 4 cached or 4 online assistants."""
    pad, device = dictionary.pad(), torch.device(args.device)
    student = build_model(dictionary, *shape).to(device)
    assistants = [build_model(dictionary, *shape).eval().to(device) for _ in range(LANGS)]
    optimizer = torch.optim.Adam(student.parameters(), lr=1e-4)
    n = args.steps + 1
    batches = make_batches(dictionary, n, args.tokens, rng, mixed=False)
    tmp = tempfile.TemporaryDirectory()
    stores = [write_store(Path(tmp.name) / f"assistant{a}", batches, args.k, len(dictionary), rng, ref=True)
              for a in range(LANGS)]
    autocast = dict(device_type="cuda", dtype=torch.float16, enabled=args.fp16 and device.type == "cuda")
    scaler = torch.amp.GradScaler("cuda", enabled=autocast["enabled"])

    def cached(batch, lang, rows):
        rows = rows.cpu()  # the stores are read on the CPU
        index, length = batch["pair_index"][rows].numpy(), batch["target"].size(1)
        return [(*s.lookup(index, length=length), s.lookup_ref_lprobs(index, length=length)) for s in stores]

    def online(batch, lang, rows):
        net = {key: v[rows] for key, v in batch["net_input"].items()}
        with torch.no_grad(), torch.autocast(**autocast):
            return [TS.model_topk(a, net, batch["target"][rows], args.k, pad) for a in assistants]

    def step(batch, mode, number):
        batch = {key: ({k: v.to(device) for k, v in value.items()} if isinstance(value, dict) else
                       value.to(device) if torch.is_tensor(value) and key != "pair_index" else value)
                 for key, value in batch.items()}
        if mode != "nll":
            fn = cached if mode == "adaptive-cached" else online
            attach_assistants(batch, pad, lambda lang, rows: fn(batch, lang, rows))  # on the target's device
        student.train()
        optimizer.zero_grad()
        with torch.autocast(**autocast):
            out = student(**batch["net_input"])
        lprobs = student.get_normalized_probs(out, log_probs=True).float()  # [B, T, V]
        terms = adaptive_kd_loss(lprobs, batch["target"], pad, batch.get("kd_assist_ids"), batch.get("kd_assist_probs"),
                                 batch.get("kd_assist_ref"), batch.get("kd_assist_mask"), batch["lang_id"],
                                 lambda1=0.5, lambda2=logistic_anneal(number), epsilon=0.1)
        scaler.scale(terms.loss / batch["ntokens"]).backward()
        scaler.step(optimizer)
        scaler.update()
        if device.type == "cuda":
            torch.cuda.synchronize()

    modes = ["nll", "adaptive-cached", "adaptive-online"]
    clock = time.process_time if args.clock == "cpu" and device.type == "cpu" else time.perf_counter
    times = {m: [] for m in modes}
    for i in range(n):
        for mode in modes:
            start = clock()
            step(batches[i], mode, i)
            if i > 0:
                times[mode].append(clock() - start)

    def ratio(a, b):
        return statistics.median(x / y for x, y in zip(times[a], times[b]))

    clock_name = args.clock if device.type == "cpu" else "wall"
    print(f"student {args.assistant} {shape[0]} layers {shape[1]}/{shape[2]}; {LANGS} assistants of the same shape; "
          f"vocab {len(dictionary)}, k {args.k}, ~{args.tokens} target tokens/batch, {args.threads} threads, "
          f"{device}{' fp16' if autocast['enabled'] else ''}, {clock_name} time, {args.steps} timed rounds")
    print(f"{'mode':<18}{'median s':>10}{'min s':>8}{'x nll':>8}{'cached faster by':>18}")
    for m in modes:
        print(f"{m:<18}{statistics.median(times[m]):>10.3f}{min(times[m]):>8.3f}{ratio(m, 'nll'):>8.3f}"
              f"{ratio(m, 'adaptive-cached'):>17.2f}x")
    cost = ratio("adaptive-cached", "nll")
    print(f"target adaptive-cached <= 1.25x nll: {'met' if cost <= 1.25 else 'NOT met'} ({cost:.3f}x)")
    speedup = ratio("adaptive-online", "adaptive-cached")
    print(f"adaptive-cached faster than adaptive-online by {speedup:.2f}x")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
