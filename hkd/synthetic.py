"""Deterministic synthetic multilingual corpus (10 invented languages -> English) in TED talks layout.

    python -m hkd.synthetic --out-dir data/synthetic [--seed 1] [--scale 1.0] [--lexicon 1.0] \
        [--languages plan.tsv] [--eval-rows 120]

Writes into --out-dir (each file atomically):
  all_talks_{train,dev,test}.tsv  talk_name, en, one column per language, one English sentence per row
                                  with its translations; `__NULL__` where a translation is missing (a few
                                  train cells hold TED's tokenised `_ _ NULL _ _` instead)
  typology.tsv                    lang + URIEL-style binary syntax features (S_SVO, S_CASE_SUFFIX, ...)
  languages.tsv                   code, name, family, typology_group, train_rows (ground truth for tests)

Languages (families share proto-lexicons; each language applies a few regular sound changes):
  north  na Norlan, nb Nessic, nc Nuvari   SVO, prepositions, AdjN, definite article, plural suffix,
                                           negation after the verb
         nc departs: SOV with postpositions and an accusative case suffix (typologically "east")
  south  sa Solenta, sb Saruvan, sc Sivelli SVO, prepositions, NAdj, article, negation before the verb
         sc departs: no definite article (stays in its typological group)
  east   ea Eskari, eb Emmutu              SOV, postpositions, AdjN, accusative suffix, no article
  west   wa Wennor, wb Wylach              VSO, prepositions, NAdj, plural word instead of a suffix
The typological group is the (word order, adposition, adjective order, case) class: four groups.
Interference (FALSE_FRIENDS): 40 % of the north family's nouns, verbs and adjectives are loanwords
whose forms the east family uses for other words of the same class (false friends across families);
no other languages of different families share any form.

``--languages plan.tsv`` replaces these ten by the languages of a plan (header ``code name family
train_rows``; '#' lines are comments): any codes as corpus columns, each in one of the four families
(with its family's profile) and with its training sentences at scale 1. config/rehearsal_languages.tsv
is such a plan: the 53 TED languages (and the pt-br and fr-ca columns TED merges) with the paper's sizes.

English comes from a small grammar (transitive, intransitive and copular clauses, optional PP and
adverb, 4-15 tokens); a translation is a deterministic function of the parse: lexical mapping,
reordering by the language's profile, suffixes (plural, accusative, past) and particles.
``--lexicon SHARE`` keeps the first SHARE of each open word class (nouns, transitive and
intransitive verbs, adjectives, adverbs; at least MIN_CLASS words each; ``Vocabulary.keep``): a
smaller lexicon is learnt from fewer sentences, with the same grammar, families, sound changes,
profiles and false friends (the demo's 0.4: 31 nouns, 16 + 5 verbs, 18 adjectives, 3 adverbs).
Planted for the extraction stage: `_ _ NULL _ _` cells, English sentences with the token "null", and
about 1.5 % of train rows whose English sentence is also a test sentence.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import logging
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from hkd.fileio import write_atomic_text as write_atomic

log = logging.getLogger("hkd.synthetic")

NULL = "__NULL__"
NULL_TOKENISED = "_ _ NULL _ _"
SPLITS = ("train", "dev", "test")
TRAIN_ROWS = 3500  # English rows in train at scale 1
EVAL_ROWS = 120  # English rows in dev and in test (not scaled; --eval-rows)

NOUNS = ("man woman child teacher doctor farmer student king queen friend dog cat horse bird fish cow "
         "sheep wolf bear mouse house city river mountain tree forest garden road bridge school market "
         "village field table book letter song story picture window door boat car train ship bread apple "
         "water milk cheese soup stone box bag gift key coin map ring cup bottle chair bed lamp clock "
         "idea plan problem question answer result rule message game team family hat shoe").split()
IRREGULAR_PLURALS = {"man": "men", "woman": "women", "child": "children", "mouse": "mice",
                     "sheep": "sheep", "fish": "fish"}
TRANSITIVE = dict(p.split(":") for p in (
    "see:saw take:took find:found carry:carried watch:watched help:helped build:built buy:bought "
    "sell:sold open:opened close:closed paint:painted write:wrote read:read eat:ate drink:drank "
    "cook:cooked clean:cleaned love:loved like:liked want:wanted need:needed bring:brought send:sent "
    "follow:followed visit:visited call:called teach:taught know:knew remember:remembered "
    "forget:forgot hold:held throw:threw catch:caught push:pushed pull:pulled wash:washed "
    "break:broke fix:fixed draw:drew").split())
INTRANSITIVE = dict(p.split(":") for p in (
    "sleep:slept run:ran laugh:laughed sing:sang dance:danced swim:swam cry:cried wait:waited "
    "work:worked arrive:arrived fall:fell smile:smiled").split())
VERBS = {**TRANSITIVE, **INTRANSITIVE}
ADJECTIVES = ("big small old young new good bad happy sad red blue green white black tall short long "
              "quiet loud clever kind strong weak warm cold hot dark bright heavy rich poor busy lazy "
              "brave famous strange empty full clean dirty beautiful ugly fast slow important simple").split()
ADVERBS = "yesterday today again often quickly slowly together early".split()
PREPOSITIONS = "in on with near under behind from for".split()
# determiner lemma -> (singular form, plural form); None: not used with that number
DETERMINERS = {"the": ("the", "the"), "a": ("a", None), "some": (None, "some"), "this": ("this", "these"),
               "that": ("that", "those"), "my": ("my", "my"), "your": ("your", "your"),
               "his": ("his", "his"), "her": ("her", "her"), "our": ("our", "our"),
               "their": ("their", "their")}
GRAMMAR = ["<PL>", "<ACC>", "<PAST>", "<NEG>", "<COP>", "<AND>"]  # morphemes every family has
CONTENT_WORDS = NOUNS + list(VERBS) + ADJECTIVES + ["null"] + ADVERBS
FUNCTION_WORDS = list(DETERMINERS) + PREPOSITIONS + GRAMMAR
MIN_CLASS = 3  # a reduced lexicon keeps at least this many words of each open class


@dataclass(frozen=True)
class Vocabulary:
    """The English lemmas the corpus draws from, per open class (the function words are all kept)."""
    nouns: tuple
    transitive: tuple  # verb lemmas, each with its past tense in VERBS
    intransitive: tuple
    adjectives: tuple
    adverbs: tuple

    @classmethod
    def keep(cls, share: float = 1.0) -> Vocabulary:
        """The first `share` of every open class, in the lists' order (at least MIN_CLASS each)."""
        if not 0 < share <= 1:
            raise ValueError(f"lexicon share must be in (0, 1], got {share}")
        def first(words):
            return tuple(words[:max(MIN_CLASS, round(share * len(words)))])
        return cls(first(NOUNS), first(list(TRANSITIVE)), first(list(INTRANSITIVE)), first(ADJECTIVES),
                   first(ADVERBS))

    @property
    def verbs(self) -> list[str]:
        return [*self.transitive, *self.intransitive]

    @property
    def content_words(self) -> list[str]:
        """The lemmas a language has a form for, besides the function words (in CONTENT_WORDS order)."""
        return [*self.nouns, *self.verbs, *self.adjectives, "null", *self.adverbs]


FULL = Vocabulary.keep(1.0)

# name: (regex, replacement); a language applies a few of them, in order, to its family's proto-forms
SOUND_CHANGES = {
    "p>f/#_": (r"^p", "f"), "k>h/#_": (r"^k", "h"), "s>sh/#_": (r"^s(?!h)", "sh"),
    "t>d/V_V": (r"(?<=[aeiou])t(?=[aeiou])", "d"), "b>v/V_V": (r"(?<=[aeiou])b(?=[aeiou])", "v"),
    "k>g/V_V": (r"(?<=[aeiou])k(?=[aeiou])", "g"), "a>e": (r"a", "e"), "o>u": (r"o", "u"),
    "i>e": (r"i", "e"), "u>o": (r"u", "o"), "V>0/_#": (r"(?<=[a-z]{3})[aeiou]$", ""),
    "d>t/_#": (r"d$", "t"), "r>l": (r"r", "l"), "n>m/#_": (r"^n", "m"),
}
CONSONANTS = "p t k b d g m n s l r f v z h w y".split()
VOWELS = "a e i o u".split()
CODAS = "n r s l m".split()


@dataclass(frozen=True)
class Profile:
    order: str  # SVO, SOV or VSO
    adj_before: bool  # adjective before noun
    prep: bool  # prepositions (else postpositions)
    case: bool  # accusative case suffix on objects
    definite: bool  # has a definite article ("the" is otherwise dropped)
    plural_suffix: bool  # plural suffix on the noun (else a plural word before it)
    neg_before: bool  # negation particle before the verb (else after)

    @property
    def group(self) -> str:
        return "-".join([self.order, "pre" if self.prep else "post", "AdjN" if self.adj_before else "NAdj",
                         "case" if self.case else "nocase"])


FAMILIES = {
    "north": Profile("SVO", True, True, False, True, True, False),
    "south": Profile("SVO", False, True, False, True, True, True),
    "east": Profile("SOV", True, False, True, False, True, False),
    "west": Profile("VSO", False, True, False, True, False, True),
}
# code, name, family, train sentences at scale 1, departures from the family profile
LANGUAGES = [
    ("na", "Norlan", "north", 3000, {}), ("nb", "Nessic", "north", 1200, {}),
    ("nc", "Nuvari", "north", 400, {"order": "SOV", "prep": False, "case": True}),
    ("sa", "Solenta", "south", 2400, {}), ("sb", "Saruvan", "south", 900, {}),
    ("sc", "Sivelli", "south", 220, {"definite": False}),
    ("ea", "Eskari", "east", 1800, {}), ("eb", "Emmutu", "east", 300, {}),
    ("wa", "Wennor", "west", 600, {}), ("wb", "Wylach", "west", 150, {}),
]
MAJOR_FEATURES = {
    "S_SVO": lambda p: p.order == "SVO", "S_SOV": lambda p: p.order == "SOV",
    "S_VSO": lambda p: p.order == "VSO",
    "S_SUBJECT_BEFORE_VERB": lambda p: p.order != "VSO", "S_OBJECT_BEFORE_VERB": lambda p: p.order == "SOV",
    "S_ADJECTIVE_BEFORE_NOUN": lambda p: p.adj_before, "S_ADJECTIVE_AFTER_NOUN": lambda p: not p.adj_before,
    "S_ADPOSITION_BEFORE_NOUN": lambda p: p.prep, "S_ADPOSITION_AFTER_NOUN": lambda p: not p.prep,
    "S_CASE_SUFFIX": lambda p: p.case, "S_DEFINITE_WORD": lambda p: p.definite,
    "S_PLURAL_SUFFIX": lambda p: p.plural_suffix, "S_PLURAL_WORD": lambda p: not p.plural_suffix,
    "S_NEGATIVE_WORD_BEFORE_VERB": lambda p: p.neg_before, "S_NEGATIVE_WORD_AFTER_VERB": lambda p: not p.neg_before,
}
# not expressed by the grammar: drawn per family (1 with MINOR_ON probability), then flipped per language
MINOR_FEATURES = ["S_RELATIVE_BEFORE_NOUN", "S_NUMERAL_BEFORE_NOUN", "S_POLARQ_MARK_INITIAL",
                  "S_POLARQ_MARK_FINAL", "S_DEGREE_WORD_BEFORE_ADJECTIVE", "S_COMPLEMENTIZER_WORD_BEFORE_CLAUSE",
                  "S_SUBORDINATOR_WORD_BEFORE_CLAUSE", "S_ANY_REDUP", "S_POSSESSIVE_PREFIX", "S_TEND_PREFIX"]
MINOR_ON, MINOR_FLIP = 0.3, 0.2  # sparse, as URIEL rows are; noisy enough not to be clean
# Designed cross-family interference: false friends. A stratum of loanwords, borrowed after the sound
# changes (so every language of the family has the same form), gives FALSE_FRIEND_SHARE of the
# nouns, verbs and adjectives of the first family a form that the second family's languages use
# for *another* word of the same class (a derangement): "bolu" is "dog" in na, nb, nc and "cat" in
# ea, eb. The models that share one vocabulary and one encoder across families (the universal model,
# selective_all) must tell the meanings apart by the language token alone; within a family the
# loans are shared cognates. No other pair of languages of different families has any form in common.
FALSE_FRIENDS = ("north", "east")
FALSE_FRIEND_SHARE = 0.4


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    family: str
    profile: Profile
    lexicon: dict  # English lemma or grammatical morpheme -> word form
    base_train_rows: int


@dataclass(frozen=True)
class NP:
    noun: str
    det: str | None = None
    adjs: tuple = ()
    plural: bool = False
    coord: NP | None = None  # "... and <coord>"


@dataclass(frozen=True)
class Clause:
    kind: str  # trans, intrans or cop
    subj: NP
    verb: str  # verb lemma, or the predicate adjective of a copular clause
    obj: NP | None = None
    tense: str = "past"  # pres or past
    neg: bool = False
    pp: tuple | None = None  # (preposition, NP)
    adv: str | None = None


# ---------------------------------------------------------------- languages
def make_word(rng: random.Random, consonants, vowels, coda_p: float, syllables: int) -> str:
    return "".join(rng.choice(consonants) + rng.choice(vowels) + (rng.choice(CODAS) if rng.random() < coda_p else "")
                   for _ in range(syllables))


def apply_sound_changes(word: str, changes) -> str:
    for name in changes:
        pattern, repl = SOUND_CHANGES[name]
        word = re.sub(pattern, repl, word)
    return word


def derive_lexicon(proto: dict, changes, taken=frozenset(), loans: dict | None = None) -> dict:
    """Apply `changes` to every proto-form; a form that would merge with another (of this language, or
    one of `taken`: the other families' forms) keeps its old shape or gets a final vowel. `loans`
    (lemma -> form) replace the derived forms of their lemmas."""
    loans = loans or {}
    lexicon, used = {}, set(loans.values())
    for key, form in proto.items():
        if key in loans:
            lexicon[key] = loans[key]
            continue
        candidates = [apply_sound_changes(form, changes), form] + [form + v * n for n in (1, 2, 3) for v in "aoei"]
        lexicon[key] = next(c for c in candidates if c and c not in used and c not in taken)
        used.add(lexicon[key])
    return lexicon


def false_friend_classes(vocab: Vocabulary = FULL) -> list[list[str]]:
    """The nouns, verbs and adjectives, each without the lemmas of two classes ("clean")."""
    classes = [list(vocab.nouns), vocab.verbs, list(vocab.adjectives)]
    return [[w for w in words if sum(w in other for other in classes) == 1] for words in classes]


def false_friend_loans(seed: int, taken: set, vocab: Vocabulary = FULL) -> dict[str, dict[str, str]]:
    """{family: {lemma: loan form}} for the two FALSE_FRIENDS families: per word class, a seeded
    FALSE_FRIEND_SHARE of the lemmas; the first family's lemma x and the second family's lemma p(x)
    (p a derangement of the chosen lemmas) get the same fresh form."""
    rng = random.Random(f"hkd-synthetic:{seed}:false-friends")
    first, second = ({}, {})
    for words in false_friend_classes(vocab):
        chosen = rng.sample(words, round(FALSE_FRIEND_SHARE * len(words)))
        shifted = chosen[1:] + chosen[:1]  # a derangement: a cycle over a shuffled sample
        for x, y in zip(chosen, shifted):
            form = make_word(rng, CONSONANTS, VOWELS, 0.2, 2)
            while form in taken:
                form = make_word(rng, CONSONANTS, VOWELS, 0.2, 2)
            taken.add(form)
            first[x], second[y] = form, form
    return dict(zip(FALSE_FRIENDS, (first, second)))


def false_friends(a: Language, b: Language) -> list[tuple[str, str, str]]:
    """(form, lemma in a, lemma in b) for every form that a and b both use, for different lemmas."""
    where = {form: key for key, form in b.lexicon.items()}
    return sorted((form, key, where[form]) for key, form in a.lexicon.items()
                  if form in where and where[form] != key)


def changed_fraction(a: dict, b: dict, words: list[str] = CONTENT_WORDS) -> float:
    return sum(a[w] != b[w] for w in words) / len(words)


class PlanError(ValueError):
    """A language plan that cannot be used; the message names the file and line."""


def read_plan(path: Path) -> list[tuple]:
    """Rows (code, name, family, train rows at scale 1, {}) of a language plan TSV (see the docstring)."""
    header, plan = None, []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if header is None:
            if fields != ["code", "name", "family", "train_rows"]:
                raise PlanError(f"{path}: line {number}: header must be code, name, family, train_rows; got {fields}")
            header = fields
            continue
        if len(fields) != 4:
            raise PlanError(f"{path}: line {number}: {len(fields)} fields, the header has 4")
        code, name, family, rows = fields
        if not re.fullmatch(r"[a-z]{2,4}(-[a-z]{2,4})?", code) or code == "en":
            raise PlanError(f"{path}: line {number}: {code!r} is not a source language code")
        if family not in FAMILIES:
            raise PlanError(f"{path}: line {number}: family {family!r} is none of {', '.join(FAMILIES)}")
        if not rows.isdigit() or int(rows) < 1:
            raise PlanError(f"{path}: line {number}: train_rows {rows!r} is not a positive integer")
        if code in {p[0] for p in plan}:
            raise PlanError(f"{path}: line {number}: {code!r} is planned twice")
        plan.append((code, name, family, int(rows), {}))
    if len(plan) < 2:
        raise PlanError(f"{path}: plans {len(plan)} language(s); at least 2 are needed")
    return plan


def build_languages(seed: int, plan: list[tuple] = LANGUAGES, vocab: Vocabulary = FULL) -> list[Language]:
    rng = random.Random(f"hkd-synthetic:{seed}:languages")
    languages = []
    foreign: set[str] = {"null"}  # every form so far: no two families share a form by chance
    loans = false_friend_loans(seed, foreign, vocab)
    content = vocab.content_words
    for family, profile in FAMILIES.items():
        consonants = sorted(rng.sample(CONSONANTS, rng.randint(9, 12)))
        vowels = sorted(rng.sample(VOWELS, rng.randint(3, 5)))
        coda_p = rng.uniform(0.05, 0.4)
        proto, used = {}, set(foreign)
        for key in content + FUNCTION_WORDS:
            n_syl = 1 if key in FUNCTION_WORDS else rng.choices([1, 2, 3], [0.2, 0.55, 0.25])[0]
            form = make_word(rng, consonants, vowels, coda_p, n_syl)
            while form in used:
                form = make_word(rng, consonants, vowels, coda_p, n_syl)
            proto[key] = form
            used.add(form)
        sisters = []  # lexicons of this family's languages so far
        for code, name, _, rows, departures in (lang for lang in plan if lang[2] == family):
            for attempt in itertools.count():  # redraw until lexically distinct from its sisters
                changes = rng.sample(sorted(SOUND_CHANGES), 1 if not sisters else rng.randint(2, 4))
                lexicon = derive_lexicon(proto, changes, foreign, loans.get(family))
                # a large family (a plan's) runs out of distinct combinations: ask less, by steps
                need = 0.3 - 0.05 * (attempt // 200)
                if all(changed_fraction(lexicon, sister, content) >= need for sister in sisters):
                    break
            sisters.append(lexicon)
            languages.append(Language(code, name, family, dataclasses.replace(profile, **departures), lexicon, rows))
        foreign |= {form for lexicon in sisters for form in lexicon.values()}
    order = [code for code, *_ in plan]
    return sorted(languages, key=lambda lang: order.index(lang.code))


def typology_table(languages: list[Language], seed: int) -> list[dict]:
    """One row per language: major features from its profile, minor ones with family-correlated noise."""
    rng = random.Random(f"hkd-synthetic:{seed}:typology")
    family_minor = {fam: [rng.random() < MINOR_ON for _ in MINOR_FEATURES] for fam in FAMILIES}
    rows = []
    for lang in languages:
        row = {"lang": lang.code, **{f: int(test(lang.profile)) for f, test in MAJOR_FEATURES.items()}}
        for feature, bit in zip(MINOR_FEATURES, family_minor[lang.family]):
            row[feature] = int(bit != (rng.random() < MINOR_FLIP))
        rows.append(row)
    return rows


# ---------------------------------------------------------------- English
def add_s(word: str) -> str:
    """English -s suffix: plural nouns, third person singular verbs."""
    if word.endswith(("s", "sh", "ch", "x")):
        return word + "es"
    return word[:-1] + "ies" if word[-1] == "y" and word[-2] not in "aeiou" else word + "s"


def plural(noun: str) -> str:
    return IRREGULAR_PLURALS.get(noun) or add_s(noun)


def english_np(np_: NP) -> list[str]:
    det = [DETERMINERS[np_.det][np_.plural]] if np_.det else []
    toks = det + list(np_.adjs) + [plural(np_.noun) if np_.plural else np_.noun]
    if det == ["a"] and toks[1][0] in "aeiou":
        toks[0] = "an"
    return toks + (["and"] + english_np(np_.coord) if np_.coord else [])


def english(c: Clause) -> str:
    pl = c.subj.plural
    if c.kind == "cop":
        be = {"pres": ("is", "are"), "past": ("was", "were")}[c.tense][pl]
        verb = [be, "not", c.verb] if c.neg else [be, c.verb]
    elif c.neg:
        verb = ["did" if c.tense == "past" else "do" if pl else "does", "not", c.verb]
    else:
        verb = [VERBS[c.verb] if c.tense == "past" else c.verb if pl else add_s(c.verb)]
    toks = english_np(c.subj) + verb + (english_np(c.obj) if c.obj else [])
    toks += [c.pp[0]] + english_np(c.pp[1]) if c.pp else []
    return " ".join(toks + ([c.adv] if c.adv else []) + ["."])


def random_np(rng: random.Random, coord_p: float = 0.0, vocab: Vocabulary = FULL) -> NP:
    pl = rng.random() < 0.3
    dets = [d for d, forms in DETERMINERS.items() if forms[pl]] + ["the"] * 8 + ([None] * 3 if pl else [])
    adjs = tuple(rng.sample(vocab.adjectives, rng.choices([0, 1, 2], [0.55, 0.37, 0.08])[0]))
    coord = random_np(rng, vocab=vocab) if rng.random() < coord_p else None
    return NP(rng.choice(vocab.nouns), rng.choice(dets), adjs, pl, coord)


def random_clause(rng: random.Random, vocab: Vocabulary = FULL) -> Clause:
    """A clause whose English has 4-15 tokens (rejection sampling)."""
    while True:
        kind = rng.choices(["trans", "intrans", "cop"], [0.6, 0.2, 0.2])[0]
        verb = rng.choice(vocab.transitive if kind == "trans" else vocab.intransitive if kind == "intrans"
                          else vocab.adjectives)
        c = Clause(kind, random_np(rng, vocab=vocab), verb,
                   random_np(rng, 0.1, vocab) if kind == "trans" else None,
                   rng.choice(["pres", "past"]), rng.random() < 0.15,
                   (rng.choice(PREPOSITIONS), random_np(rng, vocab=vocab)) if rng.random() < 0.3 else None,
                   rng.choice(vocab.adverbs) if rng.random() < 0.2 else None)
        if 4 <= len(english(c).split()) <= 15:
            return c


def null_clause(rng: random.Random, vocab: Vocabulary = FULL) -> Clause:
    """A clause whose subject is "the null ...": "null" as an ordinary word, not a missing-value marker."""
    while True:
        c = random_clause(rng, vocab)
        c = dataclasses.replace(c, subj=dataclasses.replace(c.subj, det="the", adjs=("null",)))
        if len(english(c).split()) <= 15:
            return c


# ---------------------------------------------------------------- translation
def translate_np(np_: NP, lang: Language, acc: bool = False) -> list[str]:
    lex, p = lang.lexicon, lang.profile
    noun, plural_word = lex[np_.noun], []
    if np_.plural:
        if p.plural_suffix:
            noun += lex["<PL>"]
        else:
            plural_word = [lex["<PL>"]]
    if acc and p.case:
        noun += lex["<ACC>"]
    det = [lex[np_.det]] if np_.det and (np_.det != "the" or p.definite) else []
    adjs = [lex[a] for a in np_.adjs]
    toks = det + (adjs + plural_word + [noun] if p.adj_before else plural_word + [noun] + adjs)
    return toks + ([lex["<AND>"]] + translate_np(np_.coord, lang, acc) if np_.coord else [])


def translate(c: Clause, lang: Language) -> str:
    """The translation of clause `c` into `lang`: a deterministic function of the parse."""
    lex, p = lang.lexicon, lang.profile
    verb = (lex["<COP>"] if c.kind == "cop" else lex[c.verb]) + (lex["<PAST>"] if c.tense == "past" else "")
    vgroup = ([lex["<NEG>"], verb] if p.neg_before else [verb, lex["<NEG>"]]) if c.neg else [verb]
    subj = translate_np(c.subj, lang)
    obj = [lex[c.verb]] if c.kind == "cop" else translate_np(c.obj, lang, acc=True) if c.obj else []
    pp = []
    if c.pp:
        pp = translate_np(c.pp[1], lang)
        pp = [lex[c.pp[0]]] + pp if p.prep else pp + [lex[c.pp[0]]]
    adv = [lex[c.adv]] if c.adv else []
    if p.order == "SVO":
        toks = subj + vgroup + obj + pp + adv
    elif p.order == "SOV":
        toks = adv + subj + obj + pp + vgroup
    else:
        toks = vgroup + subj + obj + pp + adv
    return " ".join(toks + ["."])


# ---------------------------------------------------------------- corpus
def make_split(rng: random.Random, n_rows: int, sizes: dict, first_talk: int, vocab: Vocabulary = FULL):
    """Clauses, talk names and, per language, the set of rows translated (whole talks, in random order)."""
    talks, bounds = [], []
    while len(talks) < n_rows:
        size = min(rng.randint(15, 40), n_rows - len(talks))
        bounds.append(range(len(talks), len(talks) + size))
        talks += [f"talk_{first_talk + len(bounds) - 1:04d}"] * size
    clauses = [random_clause(rng, vocab) for _ in range(n_rows)]
    present = {}
    for code, n in sizes.items():
        order = rng.sample(bounds, len(bounds))
        present[code] = set([i for talk in order for i in talk][:n])
    return talks, clauses, present, first_talk + len(bounds)


def build_corpus(languages: list[Language], seed: int, scale: float,
                 train_rows: int | None = None, vocab: Vocabulary = FULL,
                 eval_rows: int = EVAL_ROWS) -> tuple[dict, dict]:
    """Split -> list of rows (talk_name, en, one cell per language); and per-language train row counts.

    train_rows: the English rows of train (default TRAIN_ROWS x scale); at least the largest language's.
    eval_rows: the English rows of dev and of test; a language has min(eval_rows, 80 + its train
    rows at scale 1 / 75) of them."""
    rng = random.Random(f"hkd-synthetic:{seed}:corpus")
    train_sizes = {lang.code: max(10, round(lang.base_train_rows * scale)) for lang in languages}
    eval_sizes = {lang.code: min(eval_rows, 80 + lang.base_train_rows // 75) for lang in languages}
    n_train = max(max(train_sizes.values()), train_rows or round(TRAIN_ROWS * scale))
    train = make_split(rng, n_train, train_sizes, 0, vocab)
    dev = make_split(rng, eval_rows, eval_sizes, train[3], vocab)
    test = make_split(rng, eval_rows, eval_sizes, dev[3], vocab)
    # plant: train rows repeating a test sentence, and sentences with "null" as an ordinary adjective
    n_overlap = min(eval_rows, max(2, round(0.015 * n_train)))  # at most every test sentence once
    rows = rng.sample(range(n_train), n_overlap + 4)
    for i, j in zip(rows, rng.sample(range(eval_rows), n_overlap)):
        train[1][i] = test[1][j]
    for i in rows[n_overlap:]:
        train[1][i] = null_clause(rng, vocab)
    out = {}
    for split, (talks, clauses, present, _) in zip(SPLITS, (train, dev, test)):
        out[split] = [[talks[i], english(c)] + [translate(c, lang) if i in present[lang.code] else NULL
                                                 for lang in languages] for i, c in enumerate(clauses)]
    missing = [(i, k) for i, row in enumerate(out["train"]) for k in range(2, len(row)) if row[k] == NULL]
    for i, k in rng.sample(missing, min(6, len(missing))):
        out["train"][i][k] = NULL_TOKENISED
    return out, {code: len(rows) for code, rows in train[2].items()}


def tsv(header: list[str], rows: list[list]) -> str:
    return "".join("\t".join(map(str, r)) + "\n" for r in [header] + rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", required=True, type=Path, help="folder for the five output files")
    ap.add_argument("--seed", type=int, default=1, help="random seed (same seed -> identical files)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplier of the training sizes")
    ap.add_argument("--languages", type=Path, help="a language plan TSV instead of the ten demo languages")
    ap.add_argument("--train-rows", type=int, help="English rows of train (default 3500 x scale)")
    ap.add_argument("--lexicon", type=float, default=1.0,
                    help="share of each open word class kept (1: all; see Vocabulary.keep)")
    ap.add_argument("--eval-rows", type=int, default=EVAL_ROWS,
                    help=f"English rows of dev and of test (default {EVAL_ROWS})")
    args = ap.parse_args(argv)
    if not args.scale > 0:
        ap.error(f"--scale must be > 0, got {args.scale}")
    if not 0 < args.lexicon <= 1:
        ap.error(f"--lexicon must be in (0, 1], got {args.lexicon}")
    if args.eval_rows < 2:
        ap.error(f"--eval-rows must be at least 2, got {args.eval_rows}")
    vocab = Vocabulary.keep(args.lexicon)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)

    try:
        plan = read_plan(args.languages) if args.languages else LANGUAGES
    except PlanError as err:
        ap.error(str(err))
    languages = build_languages(args.seed, plan, vocab)
    corpus, train_rows = build_corpus(languages, args.seed, args.scale, args.train_rows, vocab,
                                      args.eval_rows)
    typology = typology_table(languages, args.seed)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    header = ["talk_name", "en"] + [lang.code for lang in languages]
    for split in SPLITS:
        write_atomic(args.out_dir / f"all_talks_{split}.tsv", tsv(header, corpus[split]))
    write_atomic(args.out_dir / "typology.tsv", tsv(list(typology[0]), [list(r.values()) for r in typology]))
    write_atomic(args.out_dir / "languages.tsv", tsv(
        ["code", "name", "family", "typology_group", "train_rows"],
        [[lang.code, lang.name, lang.family, lang.profile.group, train_rows[lang.code]] for lang in languages]))

    for k, lang in enumerate(languages, start=2):
        n = {s: sum(row[k] not in (NULL, NULL_TOKENISED) for row in corpus[s]) for s in SPLITS}
        log.info("%s %-8s %-6s %-20s train=%5d dev=%3d test=%3d  dog=%s", lang.code, lang.name, lang.family,
                 lang.profile.group, n["train"], n["dev"], n["test"], lang.lexicon["dog"])
    log.info("wrote %d train / %d dev / %d test rows to %s", *(len(corpus[s]) for s in SPLITS), args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
