"""Tests of hkd.synthetic: TED layout, determinism, planted cases, and the linguistic structure."""
import itertools
import re

import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.metrics import adjusted_rand_score

from hkd import synthetic as S
from hkd.synthetic import NP, Clause

SCALE = 0.2
FILES = [f"all_talks_{s}.tsv" for s in S.SPLITS] + ["typology.tsv", "languages.tsv"]
MISSING = (S.NULL, S.NULL_TOKENISED)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    path = tmp_path_factory.mktemp("synthetic")
    assert S.main(["--out-dir", str(path), "--seed", "1", "--scale", str(SCALE)]) == 0
    return path


def read_rows(path):
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "", f"{path} does not end with a newline"
    return [line.split("\t") for line in lines[:-1]]


def read_tsv(path):
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)


def test_layout(out):
    codes = [code for code, *_ in S.LANGUAGES]
    assert "en" not in codes and all(re.fullmatch(r"[a-z]{2}", c) for c in codes)
    for split in S.SPLITS:
        rows = read_rows(out / f"all_talks_{split}.tsv")
        assert rows[0] == ["talk_name", "en"] + codes
        for n, row in enumerate(rows[1:], start=2):
            where = f"{split} line {n}"
            assert len(row) == len(codes) + 2, where
            assert re.fullmatch(r"talk_\d{4}", row[0]), where
            assert row[1] not in MISSING and row[1].endswith(" ."), where
            for cell in row[1:]:
                assert "\r" not in cell and cell == cell.strip() and "  " not in cell, where
                assert cell in MISSING or (cell == cell.lower() and cell.endswith(" .")), where
            assert 4 <= len(row[1].split()) <= 15, where  # tokens, the final "." included
    talks = {s: set(read_tsv(out / f"all_talks_{s}.tsv").talk_name) for s in S.SPLITS}
    assert not (talks["train"] & talks["dev"]) and not (talks["dev"] & talks["test"])


def test_rows_grouped_in_talks(out):
    names = list(read_tsv(out / "all_talks_train.tsv").talk_name)
    runs = [name for name, _ in itertools.groupby(names)]
    assert len(runs) == len(set(runs)) > 5  # each talk is one contiguous block


def test_sizes_match_languages_table(out):
    languages = read_tsv(out / "languages.tsv")
    assert list(languages.columns) == ["code", "name", "family", "typology_group", "train_rows"]
    train, dev, test = (read_tsv(out / f"all_talks_{s}.tsv") for s in S.SPLITS)
    assert len(train) == round(S.TRAIN_ROWS * SCALE) and len(dev) == len(test) == S.EVAL_ROWS
    for lang in languages.itertuples():
        assert (~train[lang.code].isin(MISSING)).sum() == int(lang.train_rows), lang.code
        assert (~dev[lang.code].isin(MISSING)).sum() >= 80, lang.code
        assert (~test[lang.code].isin(MISSING)).sum() >= 80, lang.code
    assert languages.typology_group.nunique() == 4 and languages.family.nunique() == 4


def test_sizes_span_low_to_high_resource():
    base = sorted(rows for _, _, _, rows, _ in S.LANGUAGES)
    assert base[0] <= 200 and base[-1] >= 2500 and base[-1] <= S.TRAIN_ROWS


def test_scale_multiplies_training_sizes(out):
    languages = read_tsv(out / "languages.tsv").set_index("code")
    for code, _, _, rows, _ in S.LANGUAGES:
        assert int(languages.train_rows[code]) == max(10, round(rows * SCALE))


def test_deterministic_and_seed_dependent(out, tmp_path):
    S.main(["--out-dir", str(tmp_path / "same"), "--seed", "1", "--scale", str(SCALE)])
    S.main(["--out-dir", str(tmp_path / "other"), "--seed", "2", "--scale", str(SCALE)])
    for name in FILES:
        assert (tmp_path / "same" / name).read_bytes() == (out / name).read_bytes(), name
    assert (tmp_path / "other" / "all_talks_train.tsv").read_bytes() != (out / "all_talks_train.tsv").read_bytes()
    assert not list(tmp_path.glob("*/.*.tmp")), "temporary files left behind"


def test_planted_null_markers_and_null_word(out):
    train = read_tsv(out / "all_talks_train.tsv")
    langs = train.columns[2:]
    assert (train[langs] == S.NULL_TOKENISED).to_numpy().sum() >= 3
    null_rows = train[train.en.str.split().apply(lambda toks: "null" in toks)]
    assert len(null_rows) >= 2
    assert (~null_rows[langs].isin(MISSING)).to_numpy().sum() >= 1  # translated like any sentence


def test_planted_train_test_overlap(out):
    train, test = (read_tsv(out / f"all_talks_{s}.tsv") for s in ("train", "test"))
    overlap = train.en.isin(set(test.en)).sum()
    assert 0.01 * len(train) <= overlap <= 0.05 * len(train)


def edit_distance(a, b):
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def test_families_share_cognates():
    languages = S.build_languages(1)
    within, across = [], []
    for a, b in itertools.combinations(languages, 2):
        d = np.mean([edit_distance(a.lexicon[w], b.lexicon[w]) / max(len(a.lexicon[w]), len(b.lexicon[w]))
                     for w in S.CONTENT_WORDS])
        (within if a.family == b.family else across).append(d)
    assert max(within) < 0.5 and min(across) > 0.7, (within, across)


def test_sound_changes_are_regular():
    assert S.apply_sound_changes("pakata", ["p>f/#_", "t>d/V_V", "V>0/_#"]) == "fakad"
    assert S.derive_lexicon({"x": "pa", "y": "fa"}, ["p>f/#_"]) == {"x": "fa", "y": "faa"}


def test_word_order_follows_profile():
    simple = Clause("trans", NP("dog", "the"), "see", NP("cat", "the", ("big",)), tense="pres")
    for lang in S.build_languages(1):
        lex, p = lang.lexicon, lang.profile
        toks = S.translate(simple, lang).split()
        subj, verb = toks.index(lex["dog"]), toks.index(lex["see"])
        obj = toks.index(lex["cat"] + (lex["<ACC>"] if p.case else ""))
        expected = {"SVO": subj < verb < obj, "SOV": subj < obj < verb, "VSO": verb < subj < obj}
        assert expected[p.order], (lang.code, p.order, toks)
        assert (toks.index(lex["big"]) < obj) == p.adj_before, (lang.code, toks)
        assert (lex["the"] in toks) == p.definite, (lang.code, toks)


def test_english_grammar():
    c = Clause("trans", NP("child", "a", ("old",)), "carry", NP("box", "the", (), True), tense="pres",
               pp=("in", NP("city", "that", (), True)), adv="today")
    assert S.english(c) == "an old child carries the boxes in those cities today ."
    assert S.english(Clause("cop", NP("man", "the", (), True), "happy", neg=True)) == "the men were not happy ."
    assert S.english(Clause("intrans", NP("cat", "my"), "sleep", tense="pres", neg=True)) == "my cat does not sleep ."


def typology_ari(typology, groups):
    x = typology.drop(columns="lang").to_numpy(dtype=float)
    labels = fcluster(linkage(x, "average", metric="cosine"), len(set(groups)), "maxclust")
    return adjusted_rand_score(groups, labels)


def test_typology_clusters_recover_groups(out):
    typology = read_tsv(out / "typology.tsv")
    languages = read_tsv(out / "languages.tsv")
    assert list(typology.lang) == list(languages.code)
    assert typology.columns[0] == "lang" and len(typology.columns) >= 1 + 8 + 10
    assert set(np.unique(typology.drop(columns="lang").to_numpy())) <= {"0", "1"}
    assert typology_ari(typology, list(languages.typology_group)) >= 0.8
    # groups mostly, but not fully, follow families
    assert 0 < adjusted_rand_score(languages.family, languages.typology_group) < 1


@pytest.mark.parametrize("seed", range(1, 11))
def test_typology_clusters_recover_groups_across_seeds(seed):
    languages = S.build_languages(seed)
    typology = pd.DataFrame(S.typology_table(languages, seed))
    assert typology_ari(typology, [lang.profile.group for lang in languages]) >= 0.8


def test_eval_rows_sets_dev_and_test_and_leaves_train_as_it_is(out, tmp_path):
    assert S.main(["--out-dir", str(tmp_path), "--seed", "1", "--scale", str(SCALE), "--eval-rows", "40"]) == 0
    train, dev, test = (read_tsv(tmp_path / f"all_talks_{s}.tsv") for s in S.SPLITS)
    assert len(dev) == len(test) == 40 and len(train) == round(S.TRAIN_ROWS * SCALE)
    for code, *_ in S.LANGUAGES:
        assert (~dev[code].isin(MISSING)).sum() == (~test[code].isin(MISSING)).sum() == 40, code
    assert (tmp_path / "languages.tsv").read_bytes() == (out / "languages.tsv").read_bytes()
    with pytest.raises(SystemExit):
        S.main(["--out-dir", str(tmp_path / "bad"), "--eval-rows", "1"])


def test_rejects_bad_scale(tmp_path):
    with pytest.raises(SystemExit):
        S.main(["--out-dir", str(tmp_path), "--scale", "0"])


@pytest.mark.parametrize("seed, share", [(1, 1.0), (2, 1.0), (3, 1.0), (1, 0.4), (2, 0.2)])
def test_false_friends_in_exactly_the_documented_families(seed, share):
    """The designed interference: forms shared across families, meaning other words, only between the
    FALSE_FRIENDS families (every pair of their languages), none between any other two families; with
    the full lexicon and with reduced ones (--lexicon)."""
    vocab = S.Vocabulary.keep(share)
    languages = S.build_languages(seed, vocab=vocab)
    first, second = S.FALSE_FRIENDS
    classes = S.false_friend_classes(vocab)
    assert all(len(words) >= 2 for words in classes)  # a derangement needs two lemmas
    n_loans = sum(round(S.FALSE_FRIEND_SHARE * len(words)) for words in classes)
    for a, b in itertools.combinations(languages, 2):
        if a.family == b.family:
            continue
        shared = set(a.lexicon.values()) & set(b.lexicon.values())
        friends = S.false_friends(a, b)
        if {a.family, b.family} == {first, second}:
            assert len(friends) == len(shared) == n_loans, (a.code, b.code)
            word_class = {w: k for k, words in enumerate(classes) for w in words}
            assert all(word_class[x] == word_class[y] for _, x, y in friends)  # a noun for a noun, ...
        else:
            assert not shared, (a.code, b.code, sorted(shared)[:5])
    assert {lang.code for lang in languages if lang.family in S.FALSE_FRIENDS} == {"na", "nb", "nc", "ea", "eb"}


def test_vocabulary_keeps_the_first_share_of_each_open_class():
    full = S.Vocabulary.keep(1.0)
    assert full == S.FULL and full.content_words == S.CONTENT_WORDS
    small = S.Vocabulary.keep(0.4)
    for name, words in [("nouns", S.NOUNS), ("transitive", list(S.TRANSITIVE)),
                        ("intransitive", list(S.INTRANSITIVE)), ("adjectives", S.ADJECTIVES),
                        ("adverbs", S.ADVERBS)]:
        kept = getattr(small, name)
        assert kept == tuple(words[:len(kept)]), name
        assert len(kept) == max(S.MIN_CLASS, round(0.4 * len(words))), name
    assert len(S.Vocabulary.keep(0.01).adverbs) == S.MIN_CLASS
    for bad in (0, -0.5, 1.5):
        with pytest.raises(ValueError, match="lexicon share"):
            S.Vocabulary.keep(bad)


def test_reduced_lexicon_corpus(out, tmp_path):
    """--lexicon 0.4: the English side uses only the kept lemmas, every language has a form for exactly
    them (and the function words), the sizes are those of the full lexicon, and the corpus is
    deterministic and differs from the full one."""
    args = ["--seed", "1", "--scale", str(SCALE), "--lexicon", "0.4"]
    for name in ("a", "b"):
        assert S.main(["--out-dir", str(tmp_path / name), *args]) == 0
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "all_talks_train.tsv").read_bytes() != (out / "all_talks_train.tsv").read_bytes()
    assert (tmp_path / "a" / "languages.tsv").read_bytes() == (out / "languages.tsv").read_bytes()
    vocab = S.Vocabulary.keep(0.4)
    dropped = set(S.CONTENT_WORDS) - set(vocab.content_words)
    dropped_forms = dropped | {S.plural(n) for n in dropped if n in S.NOUNS} | \
        {S.VERBS[v] for v in dropped if v in S.VERBS} | {S.add_s(v) for v in dropped if v in S.VERBS}
    allowed = set(vocab.content_words) - set(dropped_forms)  # a dropped form that is also a kept one
    english = {w for row in read_rows(tmp_path / "a" / "all_talks_train.tsv")[1:] for w in row[1].split()}
    assert not (english & dropped_forms) - allowed, sorted((english & dropped_forms) - allowed)[:5]
    for lang in S.build_languages(1, vocab=vocab):
        assert set(lang.lexicon) == set(vocab.content_words) | set(S.FUNCTION_WORDS), lang.code
