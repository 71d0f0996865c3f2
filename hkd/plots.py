"""The report's pictures (matplotlib, PNG): training curves, adaptive-KD weights, selective-KD flags,
BLEU by training size and cluster membership.

``curves``: dev BLEU and loss per epoch of every model given (hkd.train's curve.jsonl; the models of
one stage overlaid), the best epoch marked: the epoch of checkpoint_best.pt, by the metric fairseq
chose it with (``--metrics``, the models' ``stop_metric``: the highest dev BLEU or the lowest dev
loss; by default dev BLEU where the curve has it, else dev loss, as for the universal model)::

    python -m hkd.plots curves --title teachers --curves results/teachers/*/curve.jsonl \
        --names kk be ... [--metrics bleu bleu ...] --out results/report/curves/teachers.png

``alpha``: the student's weight alpha of each assistant per epoch, one panel per language (from
``results/student/alpha.jsonl``, one record per epoch and language)::

    python -m hkd.plots alpha --alpha results/student/alpha.jsonl --out results/report/alpha.png

``selective``: one assistant's selective-KD flags per language pair and epoch (its selective.jsonl):
on (distilled from the pair's teacher) or off::

    python -m hkd.plots selective --flags results/assistants/learned/c1/selective.jsonl \
        --title learned/c1 --out results/report/selective/learned/c1.png

``bleu-by-size``: each system's BLEU per language, the languages ordered by training size (the
paper's view by resource), from hkd.report's table (``results/tables/bleu.tsv``)::

    python -m hkd.plots bleu-by-size --table results/tables/bleu.tsv --out results/report/bleu_by_size.png

``membership``: the cluster of every language in each clustering type (hkd.clustering's
membership.tsv) as a language-by-type grid::

    python -m hkd.plots membership --membership results/clustering/membership.tsv --out membership.png

Every picture is written atomically (a temporary file renamed over the target).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("hkd.plots")

MAX_LEGEND = 20  # more lines than this: no legend (it would hide the curves)


# ------------------------------------------------------------------------------------------- readers

def read_jsonl(path: Path) -> list[dict]:
    """The JSON records of a JSON-lines file; an error names the file and line."""
    records = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            raise ValueError(f"{path}:{number}: not a JSON record ({e})") from None
        if not isinstance(record, dict):
            raise ValueError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
        records.append(record)
    return records


def read_tsv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def number(cell: str | None) -> float | None:
    """A table cell as a number: "12.34", "12.34 +U" (significance marks follow) -> 12.34; "NA" -> None."""
    if cell is None or not cell.strip():
        return None
    first = cell.split()[0]
    if first == "NA":
        return None
    try:
        return float(first)
    except ValueError:
        raise ValueError(f"not a number: {cell!r}") from None


# ------------------------------------------------------------------------------------------- curves

@dataclass
class Curve:
    """One model's training curve: per epoch, the training loss and the dev loss and BLEU."""
    name: str
    train_epochs: list[int]
    train_loss: list[float]
    valid_epochs: list[int]
    valid_loss: list[float | None]
    valid_bleu: list[float | None]

    @property
    def has_bleu(self) -> bool:
        return any(b is not None for b in self.valid_bleu)

    metric: str | None = None  # what checkpoint_best.pt was chosen by: "bleu" or "loss" (None: see best_epoch)

    def best_epoch(self) -> int | None:
        """The epoch of checkpoint_best.pt: by its metric, the highest dev BLEU or the lowest dev loss
        (the first on a tie); without one, by dev BLEU where the curve has it, else by dev loss."""
        metric = self.metric or ("bleu" if self.has_bleu else "loss")
        values = self.valid_bleu if metric == "bleu" else self.valid_loss
        sign = 1 if metric == "bleu" else -1
        best = None
        for epoch, value in zip(self.valid_epochs, values):
            if value is not None and (best is None or sign * value > sign * best[1]):
                best = (epoch, value)
        return None if best is None else best[0]


def curve_from_records(name: str, records: list[dict], source: str = "", metric: str | None = None) -> Curve:
    """A Curve from hkd.train's records (tags start, train, valid); `metric` the early-stopping one."""
    for r in records:
        if r.get("tag") in ("train", "valid") and not isinstance(r.get("epoch"), int):
            raise ValueError(f"{source or name}: a {r.get('tag')} record without an integer epoch: {r}")
    train = sorted((r for r in records if r.get("tag") == "train"), key=lambda r: r["epoch"])
    valid = sorted((r for r in records if r.get("tag") == "valid"), key=lambda r: r["epoch"])
    if not train and not valid:
        raise ValueError(f"{source or name}: no train or valid record (not a finished training curve?)")
    return Curve(name, [r["epoch"] for r in train], [r.get("train_loss") for r in train],
                 [r["epoch"] for r in valid], [r.get("valid_loss") for r in valid],
                 [r.get("valid_bleu") for r in valid], metric)


def plot_curves(curves: list[Curve], title: str, path: Path) -> None:
    """Dev BLEU (where there is one) and loss per epoch, every curve overlaid, best epochs starred."""
    with_bleu = any(c.has_bleu for c in curves)
    fig, axes = new_figure(1, 2 if with_bleu else 1, (13 if with_bleu else 7, 4.5))
    bleu_ax, loss_ax = (axes[0], axes[1]) if with_bleu else (None, axes[0])
    colors = palette(len(curves))
    for curve, color in zip(curves, colors):
        best = curve.best_epoch()
        loss_ax.plot(curve.train_epochs, curve.train_loss, ".-", color=color, alpha=0.8, label=curve.name)
        loss_ax.plot(curve.valid_epochs, curve.valid_loss, ".--", color=color, alpha=0.8)
        if best is not None:
            at = curve.valid_epochs.index(best)
            if curve.valid_loss[at] is not None:
                loss_ax.plot([best], [curve.valid_loss[at]], "*", color=color, markersize=11, markeredgecolor="k")
            if bleu_ax is not None and curve.valid_bleu[at] is not None:
                bleu_ax.plot([best], [curve.valid_bleu[at]], "*", color=color, markersize=11, markeredgecolor="k")
        if bleu_ax is not None and curve.has_bleu:
            bleu_ax.plot(curve.valid_epochs, curve.valid_bleu, "o-", color=color, markersize=3, label=curve.name)
    loss_ax.set(xlabel="epoch", ylabel="loss", title=f"{title}: loss (solid train, dashed dev; * best epoch)")
    if bleu_ax is not None:
        bleu_ax.set(xlabel="epoch", ylabel="dev BLEU", title=f"{title}: dev BLEU (* best epoch)")
    last = max([1, *(e for c in curves for e in c.train_epochs + c.valid_epochs)])
    integer_ticks(axes, last)
    if len(curves) <= MAX_LEGEND:
        (bleu_ax or loss_ax).legend(fontsize=7, ncols=2 if len(curves) > 8 else 1)
    save_figure(fig, path)


# -------------------------------------------------------------------------------------------- alpha

def alpha_series(records: list[dict], source: str = "") -> dict[str, dict[str, list[tuple[int, float]]]]:
    """{lang: {assistant: [(epoch, alpha), ...]}} from the student's alpha records, in epoch order."""
    out: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for r in sorted(records, key=lambda r: r.get("epoch", 0)):
        if "lang" not in r or "epoch" not in r or not isinstance(r.get("alpha"), dict):
            raise ValueError(f"{source}: an alpha record needs 'lang', 'epoch' and an 'alpha' object: {r}")
        for assistant, value in r["alpha"].items():
            out.setdefault(r["lang"], {}).setdefault(assistant, []).append((r["epoch"], float(value)))
    return out


def plot_alpha(series: dict[str, dict[str, list[tuple[int, float]]]], path: Path) -> None:
    """One panel per language: alpha of each of its assistants over the student's epochs. An
    assistant is coloured by its clustering type (the part of its name before "/")."""
    if not series:
        raise ValueError("no alpha record: nothing to draw")
    types = sorted({a.split("/")[0] for per_lang in series.values() for a in per_lang})
    color = dict(zip(types, palette(len(types))))
    cols = min(5, len(series))
    rows = math.ceil(len(series) / cols)
    fig, axes = new_figure(rows, cols, (3.2 * cols, 2.4 * rows + 0.6), sharex=True, sharey=True)
    for ax, (lang, per_lang) in zip(axes, series.items()):
        for assistant, points in sorted(per_lang.items()):
            epochs, values = zip(*points)
            ax.plot(epochs, values, "o-", markersize=3, color=color[assistant.split("/")[0]], label=assistant)
        ax.set_title(lang, fontsize=9)
        ax.set_ylim(-0.05, 1.05)
        if len(per_lang) <= 6:
            ax.legend(fontsize=6, loc="best")
    for ax in axes[len(series):]:
        ax.set_visible(False)
    integer_ticks(axes, max(e for per_lang in series.values() for points in per_lang.values() for e, _ in points))
    for ax in axes[(rows - 1) * cols:]:
        ax.set_xlabel("student epoch", fontsize=8)
    fig.suptitle("student: alpha of each assistant per epoch and language (softmax(-perplexity) over the "
                 "language's assistants; colour = clustering type)", fontsize=10)
    save_figure(fig, path)


# ---------------------------------------------------------------------------------------- selective

def flag_grid(records: list[dict], source: str = "") -> tuple[list[str], list[int], dict]:
    """(langs, epochs, {(lang, epoch): record}) from an assistant's selective-KD log."""
    cells, langs, epochs = {}, [], set()
    for r in records:
        if "lang" not in r or "epoch" not in r or "kd" not in r:
            raise ValueError(f"{source}: a selective-KD record needs 'lang', 'epoch' and 'kd': {r}")
        if r["lang"] not in langs:
            langs.append(r["lang"])
        epochs.add(r["epoch"])
        cells[(r["lang"], r["epoch"])] = r
    return langs, sorted(epochs), cells


def plot_selective(records: list[dict], title: str, path: Path, source: str = "") -> None:
    """KD on (dark) or off (light) per language pair and epoch; at a check, the cell says the
    assistant's and the teacher's dev BLEU the switch compared."""
    langs, epochs, cells = flag_grid(records, source)
    fig, (ax,) = new_figure(1, 1, (max(5.5, 1.1 + 0.55 * len(epochs)), max(2.2, 1.0 + 0.32 * len(langs))))
    if not langs:
        ax.text(0.5, 0.5, "no selective-KD record (no epoch finished)", ha="center", va="center")
        ax.set_axis_off()
    else:
        grid = [[1.0 if cells.get((lang, e), {}).get("kd") else 0.0 if (lang, e) in cells else math.nan
                 for e in epochs] for lang in langs]
        ax.imshow(grid, cmap="Blues", vmin=-0.3, vmax=1.2, aspect="auto")
        ax.set_xticks(range(len(epochs)), [str(e) for e in epochs])
        ax.set_yticks(range(len(langs)), langs)
        ax.set(xlabel="epoch", ylabel="language pair")
        if len(langs) * len(epochs) <= 400:
            for i, lang in enumerate(langs):
                for j, e in enumerate(epochs):
                    r = cells.get((lang, e))
                    if r is None:
                        continue
                    text = "on" if r["kd"] else "off"
                    if r.get("checked") and r.get("assistant_bleu") is not None:
                        text += f"\n{r['assistant_bleu']:.1f}/{r.get('teacher_bleu') or 0:.1f}"
                    ax.text(j, i, text, ha="center", va="center", fontsize=6,
                            color="white" if r["kd"] else "black")
    ax.set_title(f"{title}: selective KD per pair and epoch\n(on = distilled from the pair's teacher; "
                 "at a check: assistant / teacher dev BLEU)", fontsize=8)
    save_figure(fig, path)


# ------------------------------------------------------------------------------------- bleu by size

def bleu_by_size(rows: list[dict], source: str = "") -> tuple[list[tuple[str, int]], dict[str, list]]:
    """([(lang, training size)] ordered by size, {system: [BLEU or None per language]}) from
    hkd.report's table (columns lang, train_pairs, then one per system; the average row left out)."""
    if not rows or "lang" not in rows[0] or "train_pairs" not in rows[0]:
        raise ValueError(f"{source}: expected hkd.report's table (columns lang, train_pairs, systems...)")
    systems = [c for c in rows[0] if c not in ("lang", "train_pairs")]
    langs = []
    for row in rows:
        if row["lang"] == "average":
            continue
        try:
            langs.append((row["lang"], int(row["train_pairs"]), row))
        except ValueError:
            raise ValueError(f"{source}: language {row['lang']}: train_pairs is not an integer: "
                             f"{row['train_pairs']!r}") from None
    langs.sort(key=lambda x: x[1])
    values = {}
    for s in systems:
        try:
            values[s] = [number(row[s]) for _, _, row in langs]
        except ValueError as e:
            raise ValueError(f"{source}: column {s}: {e}") from None
    return [(lang, size) for lang, size, _ in langs], values


def plot_bleu_by_size(langs: list[tuple[str, int]], values: dict[str, list], path: Path) -> None:
    fig, (ax,) = new_figure(1, 1, (max(7.0, 1.5 + 0.32 * len(langs)), 4.8))
    x = list(range(len(langs)))
    for (system, ys), color in zip(values.items(), palette(len(values))):
        points = [(i, y) for i, y in zip(x, ys) if y is not None]
        if points:
            student = system == "hkd"
            ax.plot(*zip(*points), "o-" if student else "o--", color="black" if student else color, markersize=4,
                    linewidth=2.2 if student else 1, alpha=0.9, label=system, zorder=3 if student else 2)
    ax.set_xticks(x, [f"{lang} ({size})" for lang, size in langs], rotation=90, fontsize=7)
    ax.set(xlabel="language (training pairs), by training size", ylabel="test BLEU",
           title="BLEU of every system per language, ordered by training size")
    ax.legend(fontsize=7, ncols=2)
    ax.grid(axis="y", alpha=0.3)
    save_figure(fig, path)


# ---------------------------------------------------------------------------------------- membership

def membership_grid(rows: list[dict], source: str = "") -> tuple[list[str], list[str], dict]:
    """(langs, types, {(lang, type): cluster or ""}) from hkd.clustering's membership table."""
    if not rows or "lang" not in rows[0]:
        raise ValueError(f"{source}: expected a membership table (column lang, then one per type)")
    types = [c for c in rows[0] if c != "lang"]
    return [r["lang"] for r in rows], types, {(r["lang"], t): (r[t] or "") for r in rows for t in types}


def plot_membership(langs: list[str], types: list[str], cells: dict, path: Path) -> None:
    """A language-by-type grid: each cell names the language's cluster in that type, coloured so
    that the members of one cluster share a colour within a column (blank: in no cluster)."""
    import numpy as np

    fig, (ax,) = new_figure(1, 1, (max(4.0, 1.6 + 1.5 * len(types)), max(3.0, 1.0 + 0.3 * len(langs))))
    grid = np.full((len(langs), len(types)), np.nan)
    most = 0
    for j, t in enumerate(types):
        names = sorted({cells[(lang, t)] for lang in langs} - {""}, key=lambda n: (len(n), n))
        most = max(most, len(names))
        for i, lang in enumerate(langs):
            if cells[(lang, t)]:
                grid[i, j] = names.index(cells[(lang, t)])
    colors = 10 if most <= 10 else 20
    ax.imshow(grid % colors, cmap=f"tab{colors}", vmin=0, vmax=colors - 1, aspect="auto", alpha=0.75)
    for i, lang in enumerate(langs):
        for j, t in enumerate(types):
            ax.text(j, i, cells[(lang, t)] or "-", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(types)), types, fontsize=8)
    ax.set_yticks(range(len(langs)), langs, fontsize=7)
    ax.xaxis.tick_top()
    ax.set_title("cluster of each language per clustering type", fontsize=10)
    save_figure(fig, path)


# --------------------------------------------------------------------------------------------- common

def new_figure(rows: int, cols: int, size: tuple[float, float], **kwargs):
    """A matplotlib Figure (Agg, no pyplot state) and its axes as a flat list."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False, **kwargs)
    return fig, [ax for row in axes for ax in row]


def palette(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def integer_ticks(axes, last: int) -> None:
    """Epoch ticks 1..last (at most about 15 of them), also for a single epoch."""
    step = max(1, math.ceil(last / 15))
    for ax in axes:
        ax.set_xticks(range(1, last + 1, step))
        ax.set_xlim(0.5, last + 0.5)


def save_figure(fig, path: Path) -> None:
    """Write the figure as PNG through a temporary file beside the target, then rename it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fig.savefig(tmp, format="png", dpi=90, metadata={"Software": None})
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("wrote %s", path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("curves", help="dev BLEU and loss per epoch of the models of one stage")
    p.add_argument("--curves", type=Path, nargs="+", required=True, help="hkd.train's curve.jsonl files")
    p.add_argument("--names", nargs="+", required=True, help="one name per curve (the legend)")
    p.add_argument("--metrics", nargs="+", choices=["bleu", "loss"],
                   help="per curve, the metric its best checkpoint was chosen by (default: dev BLEU where "
                        "the curve has it, else dev loss)")
    p.add_argument("--title", required=True)
    p = sub.add_parser("alpha", help="the student's alpha per language and assistant over its epochs")
    p.add_argument("--alpha", type=Path, required=True, help="results/student/alpha.jsonl")
    p = sub.add_parser("selective", help="an assistant's selective-KD flags per pair and epoch")
    p.add_argument("--flags", type=Path, required=True, help="the assistant's selective.jsonl")
    p.add_argument("--title", required=True)
    p = sub.add_parser("bleu-by-size", help="BLEU of every system per language, ordered by training size")
    p.add_argument("--table", type=Path, required=True, help="hkd.report's bleu.tsv")
    p = sub.add_parser("membership", help="a language-by-type grid of the clusters")
    p.add_argument("--membership", type=Path, required=True, help="hkd.clustering's membership.tsv")
    for p in sub.choices.values():
        p.add_argument("--out", type=Path, required=True, help="the PNG to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    if args.command == "curves":
        metrics = args.metrics or [None] * len(args.curves)
        if not len(args.names) == len(metrics) == len(args.curves):
            parser.error(f"--names and --metrics give {len(args.names)} and {len(metrics)} values for "
                         f"{len(args.curves)} --curves")
        curves = [curve_from_records(n, read_jsonl(p), str(p), m) for n, p, m in zip(args.names, args.curves, metrics)]
        plot_curves(curves, args.title, args.out)
    elif args.command == "alpha":
        plot_alpha(alpha_series(read_jsonl(args.alpha), str(args.alpha)), args.out)
    elif args.command == "selective":
        plot_selective(read_jsonl(args.flags), args.title, args.out, str(args.flags))
    elif args.command == "bleu-by-size":
        plot_bleu_by_size(*bleu_by_size(read_tsv(args.table), str(args.table)), args.out)
    else:
        plot_membership(*membership_grid(read_tsv(args.membership), str(args.membership)), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
