"""Which assistants teach each language while the student trains: the assistant map (from a JSON file
or the clusters file), the assistants' dev BLEU, and the rule that excludes a language's weakest
assistant (the paper's remedy for kk and bs, section 4.1.2; off by default).

For a language whose assistants' dev BLEU has a variance above a threshold, the assistant of lowest
dev BLEU is dropped (one only; on a tie the first of them in the map's order). The variance is the
sample variance (ddof 1): Table 6's bs scores of the four cluster types give the paper's 20.81.

Which assistants teach a language is a map ``{lang: ["type/cluster", ...]}`` (a JSON file; items may
also be [type, cluster] pairs) or the clusters file itself (hkd.clusters_file: every assistant whose
cluster holds the language, types in file order; hkd.plan). Dev BLEU per (assistant, language) is a
JSON ``{lang: {"type/cluster": bleu}}`` or a pattern with {type}, {cluster} and {lang} of JSON files
with a "bleu" key (hkd.evaluate's output on the dev split).

    python -m hkd.assistant_map --map config/clusters.yaml --langs kk be az \
        [--bleu 'results/eval/assistant_dev/{type}/{cluster}/{lang}.json' --variance-threshold 6] \
        [--out results/student/assistants.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from hkd.fileio import write_atomic_text
from hkd.plan import assistant_name, assistants_from_clusters

log = logging.getLogger("hkd.assistant_map")

VARIANCE_DDOF = 1  # the paper's variances are sample variances (bs: 20.81 from Table 6)


def exclude_weakest(bleu: Mapping[str, float], threshold: float | None,
                    ddof: int = VARIANCE_DDOF) -> tuple[list[str], str | None, float | None]:
    """(kept assistants in the given order, the excluded one or None, the variance or None).

    The weakest (lowest BLEU; the first of them on a tie) is dropped when the variance of the scores
    is above `threshold` (None: never). Fewer than 2 assistants: nothing to compare, none dropped.
    """
    names = list(bleu)
    if len(names) < 2:
        return names, None, None
    values = [float(bleu[n]) for n in names]
    variance = statistics.variance(values) if ddof == 1 else statistics.pvariance(values)
    if threshold is None or not variance > threshold:
        return names, None, variance
    weakest = min(names, key=lambda n: bleu[n])
    return [n for n in names if n != weakest], weakest, variance


def load_assistant_map(path: Path, langs: list[str]) -> dict[str, list[str]]:
    """Each language's assistants (see the module docstring), for every language of `langs`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no assistant map (JSON {{lang: ['type/cluster', ...]}} or a clusters file)")
    if path.suffix in (".yaml", ".yml"):
        from hkd.clusters_file import parse_clusters  # validated against the corpus elsewhere (hkd.clusters_file)

        table = assistants_from_clusters(parse_clusters(path.read_text(encoding="utf-8"), str(path))[0])
    else:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise ValueError(f"{path}: not JSON ({e})") from None
        if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
            raise ValueError(f"{path}: expected {{lang: ['type/cluster', ...]}}")
        table = {lang: [assistant_name(item) for item in items] for lang, items in raw.items()}
    missing = [lang for lang in langs if lang not in table]
    if missing:
        raise KeyError(f"{path}: no assistants listed for {missing} (list [] for a language taught by none)")
    result = {}
    for lang in langs:
        names = table[lang]
        if len(set(names)) != len(names):
            raise ValueError(f"{path}: {lang} lists an assistant twice: {names}")
        result[lang] = list(names)
    return result


def expand(pattern: str, name: str, lang: str) -> str:
    """A {type}/{cluster}/{assistant}/{lang} pattern filled in for one assistant and language."""
    ctype, cluster = assistant_name(name).split("/")
    return pattern.replace("{type}", ctype).replace("{cluster}", cluster).replace("{assistant}", name) \
        .replace("{lang}", lang)


def check_pattern(pattern: str, what: str) -> None:
    if "{lang}" not in pattern or not ("{assistant}" in pattern or ("{type}" in pattern and "{cluster}" in pattern)):
        raise ValueError(f"{what} {pattern!r} must hold {{lang}} and either {{type}} and {{cluster}} or {{assistant}}")


def read_assistant_bleu(spec: str, assistants: Mapping[str, list[str]]) -> dict[str, dict[str, float]]:
    """Dev BLEU of every (language, assistant) of `assistants`, from a JSON table or a file pattern."""
    def number(value, where):
        value = value.get("bleu") if isinstance(value, dict) else value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}: expected a BLEU score, got {value!r}")
        return float(value)

    result: dict[str, dict[str, float]] = {}
    if "{" in spec:
        check_pattern(spec, "--assistant-bleu")
        for lang, names in assistants.items():
            result[lang] = {}
            for name in names:
                path = Path(expand(spec, name, lang))
                if not path.is_file():
                    raise FileNotFoundError(f"{path}: dev BLEU of assistant {name} on {lang} not found")
                result[lang][name] = number(json.loads(path.read_text(encoding="utf-8")), path)
        return result
    table = json.loads(Path(spec).read_text(encoding="utf-8"))
    for lang, names in assistants.items():
        scores = table.get(lang, {})
        missing = [n for n in names if n not in scores]
        if missing:
            raise KeyError(f"{spec}: no dev BLEU of {missing} on {lang}")
        result[lang] = {n: number(scores[n], f"{spec}[{lang}][{n}]") for n in names}
    return result


@dataclass
class EffectiveAssistants:
    """The effective assistants of each language (slot order), and what the exclusion rule did."""

    langs: list[str]
    assistants: dict[str, list[str]]
    excluded: dict[str, str | None] = field(default_factory=dict)
    variance: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"assistants": self.assistants, "excluded": self.excluded, "variance": self.variance}


def effective_assistants(langs: list[str], assistants: Mapping[str, list[str]],
              bleu: Mapping[str, Mapping[str, float]] | None = None,
              variance_threshold: float | None = None) -> EffectiveAssistants:
    """Apply the exclusion rule (when `variance_threshold` is set; it needs `bleu`) to each language."""
    if variance_threshold is not None and bleu is None:
        raise ValueError("excluding the weakest assistant needs the assistants' dev BLEU (--assistant-bleu)")
    plan = EffectiveAssistants(list(langs), {})
    for lang in langs:
        names = list(assistants[lang])
        if bleu is not None and names:
            kept, dropped, variance = exclude_weakest({n: bleu[lang][n] for n in names}, variance_threshold)
        else:
            kept, dropped, variance = names, None, None
        plan.assistants[lang], plan.excluded[lang], plan.variance[lang] = kept, dropped, variance
        if dropped:
            log.info("%s: dev BLEU variance %.2f > %g: excluding the weakest assistant %s (BLEU %.2f); "
                     "keeping %s", lang, variance, variance_threshold, dropped, bleu[lang][dropped], kept)
    return plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--map", type=Path, required=True, help="JSON {lang: [type/cluster ...]} or a clusters file")
    parser.add_argument("--langs", nargs="+", required=True)
    parser.add_argument("--bleu", help="dev BLEU: JSON {lang: {type/cluster: bleu}} or a {type}/{cluster}/{lang} pattern")
    parser.add_argument("--variance-threshold", type=float, default=None, help="exclude the weakest above this variance")
    parser.add_argument("--out", type=Path, help="write the JSON here (default: print it)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    assistants = load_assistant_map(args.map, args.langs)
    bleu = read_assistant_bleu(args.bleu, assistants) if args.bleu else None
    effective = effective_assistants(args.langs, assistants, bleu, args.variance_threshold)
    text = json.dumps(effective.to_json(), indent=1, sort_keys=True) + "\n"
    if args.out:
        write_atomic_text(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
