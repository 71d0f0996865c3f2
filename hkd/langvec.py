"""NMT-learned language vectors: the language-token embeddings of the universal multilingual model.

The universal model marks each source sentence with its language token (``__xx__``); after training,
that token's row of the encoder's embedding matrix is a vector of the language as the model sees it
(Tan et al. 2019a; Oncevay et al. 2020's "learned" view). They are written as a language-vectors
table (hkd.vectors: ``lang`` then one column per dimension), the format the clustering stage reads,
with 6 significant digits (DIGITS): the precision this table has always had. The clusters follow
from it: on the demo, the full float32 values (a relative change of at most 5e-6) change the k that
svcca_subset's silhouette picks, and so the assistants and the table.

    python -m hkd.langvec --checkpoint results/universal/checkpoint_best.pt --dict results/data/dict.txt \
        --langs kk be ... --out results/clustering/learned.tsv
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

from hkd.bpe import lang_token
from hkd.vectors import write_vectors

log = logging.getLogger("hkd.langvec")
EMBEDDING = "encoder.embed_tokens.weight"
DIGITS = 6


def language_vectors(checkpoint: Path, dictionary: Path, langs: list[str]) -> dict[str, np.ndarray]:
    import torch
    from fairseq.data import Dictionary

    vocab = Dictionary.load(str(dictionary))
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    weights = state["model"].get(EMBEDDING)
    if weights is None:
        raise KeyError(f"{checkpoint}: no {EMBEDDING} in the model; is it a fairseq Transformer?")
    if weights.shape[0] < len(vocab):
        raise ValueError(f"{checkpoint}: {weights.shape[0]} embeddings for {len(vocab)} entries of {dictionary}")
    vectors = {}
    for lang in langs:
        index = vocab.index(lang_token(lang))
        if index == vocab.unk():
            raise KeyError(f"{dictionary}: no language token {lang_token(lang)} for language {lang!r}")
        vectors[lang] = weights[index].float().numpy()
    return vectors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--dict", type=Path, required=True, help="the shared fairseq dictionary")
    parser.add_argument("--langs", nargs="+", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    vectors = language_vectors(args.checkpoint, args.dict, args.langs)
    dim = len(next(iter(vectors.values())))
    write_vectors(args.out, list(vectors), [f"d{i}" for i in range(dim)], np.stack(list(vectors.values())), DIGITS)
    log.info("%s: %d languages x %d dimensions", args.out, len(vectors), dim)
    return 0


if __name__ == "__main__":
    sys.exit(main())
