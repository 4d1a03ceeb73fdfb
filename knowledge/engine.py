"""Question matching: from a typed question to an entry of the knowledge base, or an honest "no".

The :class:`Matcher` is built once from a :class:`~knowledge.loader.KnowledgeBase` and answers from
memory. Both the entries and the question go through :mod:`knowledge.normalise`, so spelling, case,
synonyms ("MoU" / "memorandum of understanding") and inflections are already out of the way when
scores are computed. A question is then scored against each candidate entry with several signals,
each there for a reason:

* **IDF-weighted coverage of the question by one phrasing** (the canonical question, an alternate or a
  keyword). The curators wrote several ways people ask each question; a question mostly covered by one
  of them, counting rare words ("teething", "compact") far more than common ones ("partner"), is the
  strongest evidence. Coverage is measured both ways: how much of the *question* the phrasing explains
  (so the topic asked about is there) and how much of the *phrasing* the question explains (so the
  entry is about that and not about something that merely mentions it).
* **Coverage by all the entry's phrasings and keywords together**, for questions that combine words
  found in different alternates.
* **Coverage by the answer text**, a weak signal for details only the answer mentions.
* **Fuzzy string similarity** (rapidfuzz ``token_set_ratio`` and ``token_sort_ratio`` over the
  normalised terms, best phrasing): word order and near-identical phrasings that coverage, which
  sees sets of words, cannot tell apart.
* **BM25** over the whole entry (phrasings repeated across alternates weigh more): it chooses the
  candidates cheaply from an inverted index, so a 10,000-entry base costs a few milliseconds, and its
  term-frequency saturation breaks ties between entries that cover the question equally.

Words the knowledge base has never seen keep their full weight in the question, which is what makes
"how do I change a car tyre" decline even though "change" is a topic here. Coverage is relative, so the
sum is damped when the matched words carry little information in absolute terms ("what time is it":
one common word, fully covered); the field's own concepts ("what is collaboration") are exempt. Typos
are corrected before all that, against the knowledge base's own vocabulary ("partnershp agreemnt" ->
"partnership agreement"), at a small discount. The three outcomes come from calibrated thresholds; see
:data:`ANSWER_THRESHOLD`. ``uv run python benchmarks/bench_matching.py`` measures quality against two
baselines, speed and memory.
"""

from __future__ import annotations

import heapq
import logging
import math
import re
import sys
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Indel

from knowledge.embedding import PhrasingVectors, get_model
from knowledge.loader import KnowledgeBase
from knowledge.normalise import (
    CONCEPTS,
    SPECIFIC_MARK,
    STOP_WORDS,
    SYNONYM_WORDS,
    british,
    clean,
    clip,
    traced_terms,
    unique,
    words,
)
from knowledge.schema import Entry
from knowledge.scope import outside_subject
from knowledge.segments import segments
from knowledge.smalltalk import Talk, small_talk
from knowledge.sources import human_source


def _import_bm25s() -> ModuleType:
    """bm25s, imported without scipy.sparse.

    bm25s imports scipy.sparse whenever it is installed (scipy is, for mentor matching), but uses it only for its
    optional "scipy" backend that builds the score matrix; its "numpy" backend builds the same matrix (the scores
    are equal, see tests/knowledge/test_engine.py). scipy.sparse costs the running bot 43 MB of memory and
    0.5 s at every start, so it is hidden while bm25s is imported, and the index asks for the numpy backend.
    When something else has already imported scipy.sparse there is nothing to save and nothing is hidden.
    """
    hide = "scipy.sparse" not in sys.modules
    if hide:
        sys.modules["scipy.sparse"] = None  # type: ignore[assignment]  # makes `import scipy.sparse` fail
    try:
        import bm25s
    finally:
        if hide and sys.modules.get("scipy.sparse", 0) is None:
            del sys.modules["scipy.sparse"]
    return bm25s


bm25s = _import_bm25s()

# bm25s sets its own logger to DEBUG when imported, so every index build would be printed whatever LOG_LEVEL
# says; hand the level back to the application's logging settings.
logging.getLogger("bm25s").setLevel(logging.NOTSET)

# ------------------------------------------------------------------------------------------------
# Calibrated constants
# ------------------------------------------------------------------------------------------------

#: Scores at or above this answer directly. Calibrated without the dev set (``uv run python
#: benchmarks/bench_matching.py --calibrate``): each entry's alternates are held out in turn (the entry
#: is re-indexed without it; five folds, ~1,450 questions) against 90 off-topic questions written for
#: calibration (weather, sport, sums, recipes, IT help, chit-chat, gibberish, and near misses in the
#: field's words: "my partner is cheating on me", "how do I pay my council tax"). At 54, 71 % of
#: held-out phrasings are answered with their entry or one it lists as related, and 4 of 90 off-topic
#: questions are answered; 46 gains 2 points but answers 14 off-topic questions, 62 answers 1 and
#: loses 5 points. (Held-out alternates are harsh: many paraphrase with no word in common, and
#: neighbouring entries overlap; questions as people type them score far higher.)
ANSWER_THRESHOLD = 54.0
#: Between this and :data:`ANSWER_THRESHOLD` the bot offers "did you mean" choices instead of guessing;
#: below it, it declines. On the same sets: held-out phrasings scoring 44-54 had their entry among the
#: three offered 6 times in 10, and about 1 off-topic question in 9 lands there; below 44 the choices
#: are mostly noise.
SUGGEST_THRESHOLD = 44.0
#: When two different entries score within this many points of each other and the best is below
#: :data:`SURE_THRESHOLD`, the question is ambiguous: the bot asks rather than picks. In calibration
#: the top entry was right in that zone only half the time, and the right one was among the three
#: offered more often; about 1.5 % of questions land there, typically one broad word ("consortium").
AMBIGUITY_MARGIN = 1.5
#: Above this score the best entry is answered even when another entry is close behind.
SURE_THRESHOLD = 60.0
#: Nearest entries offered with a decline must score at least this (lower would suggest noise).
DECLINE_HINT_FLOOR = 30.0

#: Weights of the signals in the final 0-100 score (they sum to 1). A grid search on the held-out
#: alternates (top-1 accuracy and answers at the threshold) favoured spreading weight over all the
#: signals rather than leaning on the best phrasing alone (0.5 on phrasing was 6 points worse top-1).
W_PHRASING = 0.30
W_UNION = 0.20
W_ANSWER = 0.20
W_FUZZY = 0.15
W_BM25 = 0.15
#: In the phrasing signal, the share of "question covered by the phrasing" against "phrasing covered
#: by the question". Both sides matter about equally; the phrasing side a little more, as it is what
#: tells "what is the meaning of life" (one word of a long LSP phrasing) from a question that says
#: what a phrasing says. 0.3-0.5 did equally well in calibration; 0.7 answered more off-topic questions.
ALPHA = 0.4

#: IDF mass a question must match to be fully trusted, as a share of the largest IDF (a word no entry
#: has): with ~300 entries, about one word found in 5 % of them (idf ~ 3 of 6.4). A question made only
#: of common words ("partnership", "time") is damped by (matched / full) ** INFORMATION_POWER. A share
#: rather than a constant keeps the damping sensible for a knowledge base of 7 or of 10,000 entries.
INFORMATION_SHARE = 0.47
INFORMATION_POWER = 1.0
#: A concept of the field (:data:`knowledge.normalise.CONCEPTS`: partnership, consortium, MoU, risk...)
#: carries at least this share of full information however common it is: "what is collaboration" is
#: a real question here, "what time is it" is not.
CONCEPT_INFORMATION = 0.6
#: Weight of a specific term (the user's own word under a synonym, see normalise.SPECIFIC_MARK)
#: relative to its IDF.
SPECIFIC_WEIGHT = 0.3

#: Credit for a word matched only through a typo correction or a prefix relative: less sure than an
#: exact match, so it cannot lift a question over the threshold on its own as easily.
TYPO_CREDIT_DROPPED = 0.9
TYPO_CREDIT_CHANGED = 0.7
TYPO_CREDIT_TWO = 0.7
FAMILY_CREDIT = 0.8
#: Candidates per question, chosen by BM25; in calibration the right entry was among them 95 % of the
#: time, and the other 5 % shared no word with the question.
CANDIDATES = 40
#: BM25 parameters (the usual values).
BM25_K1 = 1.2
BM25_B = 0.75
#: BM25 divided by the question's IDF mass is about 1 for an entry that holds every word once; term
#: frequency lifts it higher. The signal saturates at this ratio.
BM25_CAP = 2.0

#: In a long message, a sentence that does not ask (context) counts for this share of one that asks.
CONTEXT_WEIGHT = 0.85
#: Entries ranked by words alone, and by meaning alone, that are blended for each segment.
LEXICAL_POOL = 12
#: Outcomes remembered by exact text (a few hundred KB at most).
ASK_CACHE = 2048
#: Asking sentences of a long message embedded on their own (besides the whole message): 1 scored the same
#: as 2 on every set (0 lost three dev_natural messages) and saves a model run.
EMBED_SENTENCES = 1
SEMANTIC_POOL = 12
#: When an asking sentence of a long message gets its own vector, the whole message is read only up to this
#: many word pieces (instead of 96): its vector brings the context, the asking sentence's the question. The
#: whole message was the costliest model run of a question (10.5-12.3 ms CPU for 300+ characters against
#: 8.2-8.5 ms at 64, on the busy 2-core machine); dev and dev_natural scored the same (43/43, 78/80).
CONTEXT_TOKENS = 64
#: Entries ranked by words for a context sentence (it only adds candidates the words point to).
CONTEXT_POOL = 5
#: The blend of the words-only score (0-100) and the closeness in meaning (cosine to the entry's nearest
#: phrasing): cosine below SEM_FLOOR counts as nothing (unrelated sentences of this field sit at 0.2-0.4),
#: at SEM_TOP or above as everything. Calibrated on our tuning messages (benchmarks/bench_matching.py).
W_WORDS = 0.5
W_MEANING = 0.5
SEM_FLOOR = 0.3
SEM_TOP = 0.85


def blend(words_only: float, cosine: float) -> float:
    """Final 0-100 score from the words-only score and the cosine closeness in meaning."""
    meaning = min(max((cosine - SEM_FLOOR) / (SEM_TOP - SEM_FLOOR), 0.0), 1.0)
    return W_WORDS * words_only + W_MEANING * 100.0 * meaning


@dataclass(frozen=True)
class Thresholds:
    """Where answering, "did you mean" and declining start (see :meth:`Matcher.decide`)."""

    #: At or above: answer, unless another entry is within ``margin``.
    answer: float
    #: At or above: answer even when another entry is close.
    sure: float
    #: At or above (and not answered): offer "did you mean"; below: decline.
    suggest: float
    #: Entries within this many points of the best are "genuinely close".
    margin: float
    #: When unsure but no entry is close, offer those within this many points of the best.
    offer_within: float
    #: Nearest entries offered with a decline must score at least this.
    hint_floor: float
    #: For a broad question (at most BROAD_TERMS words that count: "funding", "partnership problems"),
    #: entries within this share of the best score are also "close", and nothing is sure enough to skip
    #: the check below ``broad_sure``: one broad word fits several entries equally well.
    broad_share: float = 0.0
    broad_sure: float = 101.0


#: Words alone (the model could not load): the calibration described at ANSWER_THRESHOLD.
WORDS_THRESHOLDS = Thresholds(answer=ANSWER_THRESHOLD, sure=SURE_THRESHOLD, suggest=SUGGEST_THRESHOLD,
                              margin=AMBIGUITY_MARGIN, offer_within=10.0, hint_floor=DECLINE_HINT_FLOOR)
#: Words and meaning: calibrated on our tuning messages (``bench_matching.py --calibrate``).
BLEND_THRESHOLDS = Thresholds(answer=42.0, sure=52.0, suggest=33.0, margin=2.0, offer_within=6.0,
                              hint_floor=28.0, broad_share=0.06, broad_sure=90.0)
#: A question with at most this many distinct words that count (not stop words) is "broad".
BROAD_TERMS = 2

#: Phone shorthand spelt out before the model reads a message (the words engine has its own synonyms).
SHORTHAND = {
    "mgmt": "management", "mgt": "management", "b4": "before", "org": "organisation", "orgs": "organisations",
    "govt": "government", "u": "you", "ur": "your", "pls": "please", "plz": "please", "tbh": "to be honest",
    "thx": "thanks", "cos": "because", "coz": "because", "info": "information", "vol": "volunteer",
    "vols": "volunteers", "yr": "year", "yrs": "years", "wk": "week", "mtg": "meeting", "mtgs": "meetings",
    "asap": "as soon as possible", "w": "with", "abt": "about", "bc": "because", "dept": "department",
    "exec": "executive", "execs": "executives", "ppl": "people", "smth": "something", "sth": "something",
}
_LETTERS = re.compile(r"[A-Za-z0-9]+")

Kind = Literal["answer", "suggest", "decline", "smalltalk"]


@dataclass(frozen=True)
class Match:
    """One entry and how well it matches a question (0-100)."""

    entry: Entry
    score: float


@dataclass(frozen=True)
class Outcome:
    """What to do with a question: answer it, offer choices, or decline (with nearest entries)."""

    kind: Kind
    best: Match | None
    suggestions: tuple[Match, ...] = ()
    #: For kind "smalltalk": which (greeting, thanks, ...), so the reply can fit it.
    talk: Talk | None = None
    #: For a decline: the uncovered near-topic subject it is about ("insurance"), if any.
    outside: str | None = None

    @property
    def score(self) -> float:
        """The best match's score, 0 when nothing matched at all."""
        return self.best.score if self.best is not None else 0.0


@dataclass(frozen=True)
class _Phrasing:
    """A question or an alternate: its terms, their IDF mass, and its text for fuzzy matching.

    The terms are a tuple: a phrasing has a handful, and a tuple of five takes a third of a set's memory
    while ``in`` over it is as fast."""

    terms: tuple[str, ...]
    mass: float
    text: str
    #: Whether rapidfuzz compares against it: questions and alternates yes; a keyword no, as a one-word
    #: keyword is a subset of many questions and token_set_ratio would call that a perfect match.
    fuzzy: bool = True


@dataclass
class _IndexedEntry:
    """Everything precomputed about one entry."""

    entry: Entry
    phrasings: list[_Phrasing]
    title_terms: frozenset[str]
    answer_terms: frozenset[str]
    texts: list[str] = field(default_factory=list)
    #: The distinct lengths of ``texts`` (for :meth:`Matcher._fuzzy_bounds`).
    lengths: tuple[int, ...] = ()
    #: Rank of the id in reverse alphabetical order: among equal scores the first id wins, stably.
    order: int = 0


@dataclass(frozen=True)
class _QueryTerm:
    """A term of the question: its weight (IDF), the stems it may match with their credit (a typo or a
    prefix relative earns less than 1), and the information it carries (see INFORMATION_SHARE)."""

    term: str
    weight: float
    expansions: tuple[tuple[str, float], ...]
    info: float


@dataclass
class _Query:
    """A normalised question: weighted terms, their total weight, and the text for rapidfuzz."""

    terms: list[_QueryTerm] = field(default_factory=list)
    text: str = ""
    mass: float = 0.0
    #: Every stem the question may match -> [(position of the question term, credit)].
    by_stem: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    #: The weight of each term, by position (``terms[i].weight``).
    weights: list[float] = field(default_factory=list)
    #: The coverage signals of every entry, computed once per question (:meth:`Matcher._coverage`).
    coverage: _Coverage | None = None


@dataclass(frozen=True)
class _Coverage:
    """The coverage signals of every entry for one question, indexed like the entries (defined at
    :meth:`Matcher._coverage`): phrasing, union and answer coverage and the information matched, each 0-1."""

    phrasing: np.ndarray
    union: np.ndarray
    answer: np.ndarray
    information: np.ndarray


@dataclass(frozen=True)
class _Postings:
    """Where each term is, as arrays: which phrasings (numbered across all entries), and which entries' titles and
    answers hold it. With them a question's coverage of every entry is a few numpy operations per term instead
    of a loop over every candidate's phrasings and terms in Python."""

    phrasings: dict[str, np.ndarray]
    titles: dict[str, np.ndarray]
    answers: dict[str, np.ndarray]
    #: The IDF mass of each phrasing, and where each entry's phrasings start (for ``np.maximum.reduceat``).
    mass: np.ndarray
    starts: np.ndarray
    #: The distinct lengths of each entry's texts for rapidfuzz, one row an entry, padded with 0.
    lengths: np.ndarray


# ------------------------------------------------------------------------------------------------
# The matcher
# ------------------------------------------------------------------------------------------------


class Matcher:
    """Matches questions to knowledge-base entries; build once, then call :meth:`ask` or :meth:`search`."""

    def __init__(self, kb: KnowledgeBase, *, answer_threshold: float | None = None,
                 suggest_threshold: float | None = None, by_meaning: bool = True) -> None:
        self._entries: list[_IndexedEntry] = []
        self._df: Counter[str] = Counter()
        self._surface: Counter[str] = Counter()
        for entry in kb.entries.values():
            self._add(entry)
        n = len(self._entries)
        self._idf = {term: _idf(n, df) * (SPECIFIC_WEIGHT if term.startswith(SPECIFIC_MARK) else 1.0)
                     for term, df in self._df.items()}
        self._unknown_idf = _idf(n, 0)
        self._information_full = INFORMATION_SHARE * self._unknown_idf
        self._concept_information = CONCEPT_INFORMATION * self._information_full
        self._mass_phrasings()
        self._postings = self._build_postings()
        for rank, indexed in enumerate(sorted(self._entries, key=lambda e: e.entry.id, reverse=True)):
            indexed.order = rank
        self._build_bm25()
        self._build_typo_index()
        self._family_cache: dict[str, tuple[tuple[str, float], ...]] = {}
        self._typo_cache: dict[str, tuple[str, float] | None] = {}
        self._semantic = self._build_semantic() if by_meaning else None
        #: The latest outcomes by exact text: people send the same words often ("hi", "what is an mou"), and
        #: an outcome is immutable, so a repeat costs a dictionary look-up instead of a model run.
        self._asked: OrderedDict[str, Outcome] = OrderedDict()
        base = BLEND_THRESHOLDS if self._semantic is not None else WORDS_THRESHOLDS
        self.thresholds = replace(
            base, answer=base.answer if answer_threshold is None else answer_threshold,
            sure=max(base.sure, answer_threshold or 0.0),
            suggest=base.suggest if suggest_threshold is None else suggest_threshold)

    @property
    def answer_threshold(self) -> float:
        return self.thresholds.answer

    @property
    def suggest_threshold(self) -> float:
        return self.thresholds.suggest

    # -- building ---------------------------------------------------------------------------------

    def _build_semantic(self) -> PhrasingVectors | None:
        """The entries' phrasings embedded (from the disk cache when unchanged), or None: words alone."""
        model = get_model()
        if model is None or not self._entries:
            return None
        try:
            return PhrasingVectors(model, [[i.entry.question, *i.entry.alternates] for i in self._entries])
        except Exception as exc:  # a model that loads but fails to run must not stop the bot
            logging.getLogger(__name__).warning("Matching by meaning is off for this knowledge base: %s", exc)
            return None

    def _add(self, entry: Entry) -> None:
        """Normalise one entry's phrasings, keywords, source section and answer."""
        texts = (entry.question, *entry.alternates)
        phrasings = []
        for text in texts:
            found = unique(self._terms_of(text))
            phrasings.append(_Phrasing(tuple(found), 0.0, " ".join(found)))
        for keyword in entry.keywords:  # "sustainable community strategy" is a way of asking, too
            found = unique(self._terms_of(keyword))
            if found:
                phrasings.append(_Phrasing(tuple(found), 0.0, "", fuzzy=False))
        section = entry.source.split(":", 1)[1] if ":" in entry.source else ""
        title = set().union(*(p.terms for p in phrasings))
        title.update(self._terms_of(section))
        answer_terms = frozenset(self._terms_of(entry.answer) + self._terms_of(human_source(entry.source)))
        self._entries.append(_IndexedEntry(entry, phrasings, frozenset(title), answer_terms))
        self._df.update(title | answer_terms)

    def _terms_of(self, text: str) -> list[str]:
        """The terms of a knowledge-base text; its words also join the vocabulary typos are fixed to."""
        tokens = words(clean(text))
        self._surface.update(british(token) for token in tokens)
        return [term for term, _, _ in traced_terms(tokens)]

    def _mass_phrasings(self) -> None:
        """Give each phrasing its IDF mass, needed for "how much of the phrasing is covered"."""
        for indexed in self._entries:
            indexed.phrasings = [_Phrasing(p.terms, sum(self._idf[t] for t in p.terms), p.text, p.fuzzy)
                                 for p in indexed.phrasings]
            indexed.texts = [p.text for p in indexed.phrasings if p.fuzzy]
            indexed.lengths = tuple({len(text) for text in indexed.texts})

    def _build_postings(self) -> _Postings:
        """Each term's phrasings, titles and answers as index arrays (see :class:`_Postings`)."""
        phrasings: dict[str, list[int]] = defaultdict(list)
        titles: dict[str, list[int]] = defaultdict(list)
        answers: dict[str, list[int]] = defaultdict(list)
        mass: list[float] = []
        starts: list[int] = []
        for number, indexed in enumerate(self._entries):
            starts.append(len(mass))
            for phrasing in indexed.phrasings:  # a phrasing's terms are distinct (see _add)
                for term in phrasing.terms:
                    phrasings[term].append(len(mass))
                mass.append(phrasing.mass)
            for term in indexed.title_terms:
                titles[term].append(number)
            for term in indexed.answer_terms:
                answers[term].append(number)

        def arrays(found: dict[str, list[int]]) -> dict[str, np.ndarray]:
            return {term: np.array(where, dtype=np.intp) for term, where in found.items()}

        lengths = np.zeros((len(self._entries), max((len(e.lengths) for e in self._entries), default=0)))
        for number, indexed in enumerate(self._entries):
            lengths[number, :len(indexed.lengths)] = indexed.lengths
        return _Postings(arrays(phrasings), arrays(titles), arrays(answers),
                         np.maximum(np.array(mass, dtype=np.float64), 1e-12), np.array(starts, dtype=np.intp), lengths)

    def _build_bm25(self) -> None:
        """A BM25 index (bm25s) over each entry's phrasings + keywords + answer, phrasings counted once each."""
        docs: list[list[str]] = []
        for indexed in self._entries:
            doc: list[str] = []
            for phrasing in indexed.phrasings:
                doc.extend(phrasing.terms)
            doc.extend(indexed.title_terms)
            doc.extend(indexed.answer_terms)
            docs.append(doc)
        self._vocab = frozenset(term for doc in docs for term in doc)
        self._term_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B, csc_backend="numpy")
        if docs:
            self._bm25.index(docs, show_progress=False)
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        for term in self._vocab:
            if len(term) >= 5:
                self._by_prefix[term[:5]].append(term)

    def _build_typo_index(self) -> None:
        """Known surface words by first letter: typo correction compares like with like, cheaply."""
        known = set(self._surface) | SYNONYM_WORDS
        self._known_words = frozenset(known)
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        for word in sorted(known):
            if len(word) >= 4 and word.isalpha():
                self._by_initial[word[0]].append(word)

    # -- the question -----------------------------------------------------------------------------

    def _correct(self, word: str) -> tuple[str, float] | None:
        """The known word a typo most likely meant and the credit it earns, or None.

        Only words of four letters or more that the knowledge base has never seen are corrected, only
        to a word with the same first letter (typos rarely hit it) and never to a stop word. Words
        under 8 letters may only have lost, gained or swapped a letter (one changed letter in a short
        word is too often another real word: "tyre" is not "type", "printer" is not "pointer"); longer
        words may have one changed letter, and words of 9+ letters two edits. A dropped or swapped
        letter is the commonest typo and earns more credit than a changed one, because "cheating" ->
        "creating" is a guess while "agreemnt" -> "agreement" is not.
        """
        if word in self._typo_cache:
            return self._typo_cache[word]
        result: tuple[str, float] | None = None
        spelled = british(word)
        if (len(word) >= 4 and word.isalpha() and spelled not in self._known_words
                and word not in STOP_WORDS):
            max_edits = 1 if len(word) <= 8 else 2
            found = process.extract(spelled, self._by_initial.get(spelled[0], ()), scorer=OSA.distance,
                                    score_cutoff=max_edits, limit=8)
            options = [(word_, _typo_credit(spelled, word_)) for word_, _, _ in found]
            options = [(w, c) for w, c in options if c > 0 and w not in STOP_WORDS]
            if options:
                result = max(options, key=lambda o: (o[1], self._surface[o[0]]))
        if len(self._typo_cache) < 50_000:
            self._typo_cache[word] = result
        return result

    def _family(self, term: str) -> tuple[tuple[str, float], ...]:
        """Known terms sharing a long prefix with ``term`` ("compet" ~ "competit"): stemming misses them."""
        cached = self._family_cache.get(term)
        if cached is not None:
            return cached
        found: list[tuple[str, float]] = []
        if len(term) >= 5:
            for other in self._by_prefix.get(term[:5], ()):
                if other != term and _related(term, other):
                    found.append((other, FAMILY_CREDIT))
        result = tuple(found)
        if len(self._family_cache) < 50_000:
            self._family_cache[term] = result
        return result

    def _query(self, text: str) -> _Query:
        """Normalise a question into weighted terms, correcting typos against the known vocabulary."""
        tokens = words(clean(text))
        discount = [1.0] * len(tokens)
        for i, token in enumerate(tokens):
            fixed = self._correct(token)
            if fixed is not None:
                tokens[i], discount[i] = fixed
        query = _Query()
        seen: dict[str, float] = {}
        for term, start, end in traced_terms(tokens):
            if term.startswith(SPECIFIC_MARK) and term not in self._vocab:
                continue  # the user's own word for a concept nobody wrote: the concept carries it
            seen[term] = max(seen.get(term, 0.0), min(discount[start:end]))
        for term, credit in seen.items():
            expansions = ((term, credit),) if term in self._vocab else ()
            if not term.startswith(SPECIFIC_MARK):
                expansions += tuple((other, c * credit) for other, c in self._family(term))
            idf = self._idf.get(term)
            if idf is None:
                idf = max((self._idf[o] for o, _ in expansions), default=self._unknown_idf)
            info = max(idf, self._concept_information) if term in CONCEPTS else idf
            query.terms.append(_QueryTerm(term, idf, expansions, info))
        query.text = " ".join(seen)
        query.mass = sum(t.weight for t in query.terms)
        query.weights = [t.weight for t in query.terms]
        for position, qterm in enumerate(query.terms):
            for stem_, credit in qterm.expansions:
                query.by_stem.setdefault(stem_, []).append((position, credit))
        return query

    # -- scoring ----------------------------------------------------------------------------------

    def _candidates(self, query: _Query) -> dict[int, float]:
        """BM25 score of every entry sharing a term with the question (bm25s does the index work).

        Each term the question may match is scored on its own and weighted by its credit (a typo or a
        prefix relative earns less) and, for the user's own word under a synonym, SPECIFIC_WEIGHT.
        """
        if not self._entries:
            return {}
        total = np.zeros(len(self._entries), dtype=np.float32)
        for qterm in query.terms:
            for term, credit in qterm.expansions:
                if term in self._vocab:
                    # bm25s (Lucene's variant) leaves out BM25's constant (k1 + 1) factor; put it back so
                    # the signal keeps the scale BM25_CAP was calibrated on.
                    weight = credit * (BM25_K1 + 1) * (SPECIFIC_WEIGHT if term.startswith(SPECIFIC_MARK) else 1.0)
                    where, scores = self._term_scores(term)
                    total[where] += weight * scores
        found = np.flatnonzero(total > 0)
        return {int(index): float(total[index]) for index in found}

    def _term_scores(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The entries holding a known term and their BM25 scores for it (bm25s's, kept as they are).

        bm25s takes ~15 microseconds of Python per call whatever the term; a long message asks for ~60 terms
        (the whole message and each sentence). The answer never changes and is small (a term is in a few
        entries), so its nonzero scores are kept the first time: about 1 MB at most for the knowledge base's
        2,160 terms, objects included.
        """
        found = self._term_cache.get(term)
        if found is None:
            dense = self._bm25.get_scores([term])
            where = np.flatnonzero(dense)
            found = self._term_cache[term] = (where, dense[where])
        return found

    def _coverage(self, query: _Query) -> _Coverage:
        """The phrasing, union, answer and information signals of every entry for ``query`` (kept on it).

        * phrasing: the best of the entry's phrasings and keywords, each ALPHA x (question covered by the
          phrasing) + (1 - ALPHA) x (phrasing covered by the question); a phrasing sharing no term with the
          question scores 0. A question term matched through several stems counts its best credit once.
        * union and answer: the share of the question's weight found among all the entry's phrasings, keywords
          and source section (its title terms), and in its answer, each term at its best credit.
        * information: the information of the matched terms, counted in full (a typo's discount is applied
          once, in the coverage), as a share of :data:`INFORMATION_SHARE`'s full information.

        Computed for every entry at once from :class:`_Postings`: a long message has ~40 terms and ~40
        candidates, and the same definitions written as a loop over each candidate's phrasings cost ~5x more
        (tests/knowledge/test_engine.py holds that loop and checks the two agree).
        """
        if query.coverage is not None:
            return query.coverage
        postings = self._postings
        entries = len(self._entries)
        positions = len(query.terms)
        best = np.zeros((positions, len(postings.mass)))  # question term x phrasing: best credit
        back = np.zeros(len(postings.mass))  # each phrasing's IDF mass found in the question
        for stem, hits in query.by_stem.items():
            where = postings.phrasings.get(stem)
            if where is None:
                continue
            top = 0.0
            for position, credit in hits:
                row = best[position]
                row[where] = np.maximum(row[where], credit)
                top = max(top, credit)
            back[where] += self._idf[stem] * top
        covered = np.asarray(query.weights) @ best if positions else np.zeros(len(postings.mass))
        scores = np.where(back > 0, ALPHA * covered / query.mass
                          + (1 - ALPHA) * np.minimum(back / postings.mass, 1.0), 0.0)
        phrasing = np.maximum.reduceat(scores, postings.starts) if entries else np.zeros(0)
        union = np.zeros(entries)
        answer = np.zeros(entries)
        matched = np.zeros(entries)
        for qterm in query.terms:
            by_title = np.zeros(entries)
            by_answer = np.zeros(entries)
            for term, credit in qterm.expansions:
                where = postings.titles.get(term)
                if where is not None:
                    by_title[where] = np.maximum(by_title[where], credit)
                where = postings.answers.get(term)
                if where is not None:
                    by_answer[where] = np.maximum(by_answer[where], credit)
            union += qterm.weight * by_title
            answer += qterm.weight * by_answer
            matched += qterm.info * ((by_title > 0) | (by_answer > 0))
        query.coverage = _Coverage(phrasing, union / query.mass, answer / query.mass,
                                   np.minimum(matched / self._information_full, 1.0))
        return query.coverage

    def _signals(self, index: int, query: _Query, bm25: float, fuzzy: float) -> Signals:
        """The signals of one entry, with ``fuzzy`` given (its exact value, or an upper bound to rank by)."""
        coverage = self._coverage(query)
        return Signals(float(coverage.phrasing[index]), float(coverage.union[index]), float(coverage.answer[index]),
                       fuzzy, float(bm25_signal(bm25, query.mass)), float(coverage.information[index]))

    def _fuzzy_bounds(self, text: str) -> np.ndarray:
        """An upper bound of :meth:`_fuzzy` / 100 for every entry, from the texts' lengths alone.

        ``token_sort_ratio`` is an Indel similarity, at most 2 x min(a, b) / (a + b) for strings of lengths a
        and b (sorting the words keeps the length); ``token_set_ratio`` is bounded by 1. A long message against
        short phrasings cannot score high on the first, which is what lets :meth:`_lexical` skip rapidfuzz.
        """
        lengths = self._postings.lengths
        if not text:
            return np.zeros(len(lengths))
        n = len(text)
        by_sort = np.where(lengths > 0, 2 * np.minimum(n, lengths) / (n + lengths), 0.0).max(axis=1, initial=0.0)
        return (1.0 + by_sort) / 2 + 1e-9

    @staticmethod
    def _fuzzy(indexed: _IndexedEntry, text: str) -> float:
        """rapidfuzz similarity of the question's terms to the closest phrasing's terms (0-100).

        ``token_set_ratio`` forgives extra words on either side, ``token_sort_ratio`` does not; their
        mean rewards a phrasing that says what the question says and not much more.
        """
        if not text:
            return 0.0
        by_set = process.extractOne(text, indexed.texts, scorer=fuzz.token_set_ratio)
        by_sort = process.extractOne(text, indexed.texts, scorer=fuzz.token_sort_ratio)
        return ((by_set[1] if by_set else 0.0) + (by_sort[1] if by_sort else 0.0)) / 2

    # -- public API -------------------------------------------------------------------------------

    def _lexical(self, text: str, limit: int) -> tuple[_Query | None, dict[int, float], dict[int, float]]:
        """The words-only ranking: (query, entry index -> score for the best ``limit``, BM25 of every candidate).

        Candidates come from the BM25 index, and every signal but rapidfuzz's is computed for all of them at
        once (:meth:`_coverage`). rapidfuzz, the costly one, is then run best candidate first, each ranked by the
        most rapidfuzz could give it (:meth:`_fuzzy_bounds`), until no remaining candidate can enter the top
        ``limit``: the ranking is exact, and a long message's candidates mostly skip rapidfuzz.
        """
        query = self._query(text)
        if not query.terms or query.mass <= 0:
            return None, {}, {}
        bm25 = self._candidates(query)
        pool = heapq.nlargest(max(CANDIDATES, limit), bm25.items(), key=lambda item: item[1])
        candidates = np.array([index for index, _ in pool], dtype=np.intp)
        coverage = self._coverage(query)
        # combine() for every candidate at once, rapidfuzz at its bound; + 0.01 covers combine's rounding.
        bounds = 100.0 * np.clip(damped_total(
            coverage.phrasing[candidates], coverage.union[candidates], coverage.answer[candidates],
            self._fuzzy_bounds(query.text)[candidates], bm25_signal(np.array([score for _, score in pool]), query.mass),
            coverage.information[candidates]), 0.0, 1.0) + 0.01
        top: list[tuple[float, int, int]] = []  # min-heap of (score, id order, entry index)
        for position in np.argsort(-bounds, kind="stable"):
            if len(top) >= limit and bounds[position] < top[0][0]:
                break
            index, score = pool[position]
            indexed = self._entries[index]
            item = (combine(self._signals(index, query, score, self._fuzzy(indexed, query.text) / 100.0)),
                    indexed.order, index)
            if len(top) < limit:
                heapq.heappush(top, item)
            elif item > top[0]:
                heapq.heapreplace(top, item)
        return query, {index: score for score, _, index in top}, bm25

    def _lexical_one(self, query: _Query | None, bm25: dict[int, float], index: int) -> float:
        """The words-only score of one entry (for an entry found by meaning alone)."""
        if query is None or index not in bm25:
            return 0.0
        return combine(self._signals(index, query, bm25[index], self._fuzzy(self._entries[index], query.text) / 100.0))

    def _scored(self, text: str, limit: int) -> dict[int, float]:
        """Entry index -> final score (0-100) for the entries worth ranking.

        With the model: for the whole message and, in a long one, each sentence (:mod:`knowledge.segments`),
        the words-only score and the closeness in meaning (cosine of the sentence to the entry's nearest
        phrasing) are blended; an entry keeps its best segment, context sentences counting for
        :data:`CONTEXT_WEIGHT` of an asking one. Without the model: the words-only score of the best segment.
        """
        parts = segments(clip(text))
        # Embedding is the costly step (a 600-character message is ~150 word pieces): the whole message
        # and at most EMBED_SENTENCES asking sentences get their own vector; context sentences borrow
        # the whole message's, so their words still count but their meaning costs nothing extra.
        own = [0, *[i for i, p in enumerate(parts) if i and p.asks][:EMBED_SENTENCES]]
        caps: list[int | None] = [CONTEXT_TOKENS if len(own) > 1 else None] + [None] * (len(own) - 1)
        vectors = (self._semantic.sentence_similarities([self._for_meaning(parts[i].text) for i in own], caps)
                   if self._semantic else None)
        row_of = {index: row for row, index in enumerate(own)}
        best: dict[int, float] = {}
        for position, part in enumerate(parts):
            weight = 1.0 if part.asks else CONTEXT_WEIGHT
            own_vector = position in row_of
            query, lexical, bm25 = self._lexical(part.text, max(limit, LEXICAL_POOL if own_vector else CONTEXT_POOL))
            if vectors is None:
                scored = {index: score * weight for index, score in lexical.items()}
            else:
                sims = vectors[row_of.get(position, 0)]
                pool = set(lexical)
                if own_vector:  # a context sentence borrows the whole message's vector: its pool is already in
                    nearest = min(SEMANTIC_POOL, len(sims) - 1)
                    pool.update(int(i) for i in np.argpartition(-sims, nearest)[:nearest + 1])
                scored = {}
                for index in pool:
                    words_only = lexical.get(index)
                    if words_only is None:
                        words_only = self._lexical_one(query, bm25, index)
                    scored[index] = weight * blend(words_only, float(sims[index]))
            for index, score in scored.items():
                if score > best.get(index, -1.0):
                    best[index] = score
        return best

    def _for_meaning(self, text: str) -> str:
        """The text the model reads: typos fixed against the knowledge base's words ("partnershp agreemnt"
        reads as "partnership agreement": the model splits a misspelt word into meaningless pieces) and
        phone shorthand spelt out ("mgmt", "b4", "orgs")."""

        def fix(match: re.Match[str]) -> str:
            word = match.group()
            lower = word.lower()
            if lower in SHORTHAND:
                return SHORTHAND[lower]
            corrected = self._correct(lower)
            return corrected[0] if corrected is not None else word

        return _LETTERS.sub(fix, text)

    def search(self, text: str, limit: int = 5) -> list[Match]:
        """Entries ranked by score, best first, at most ``limit``; empty when nothing matches at all."""
        if not isinstance(text, str) or limit <= 0 or not text.strip():
            return []
        scored = self._scored(text, limit)
        ranked = sorted(scored.items(), key=lambda item: (-item[1], -self._entries[item[0]].order))[:limit]
        return [Match(self._entries[index].entry, round(score, 2)) for index, score in ranked if score > 0]

    @property
    def by_meaning(self) -> bool:
        """Whether this matcher uses the sentence-embedding model (False: words alone)."""
        return self._semantic is not None

    def ask(self, text: str) -> Outcome:
        """Decide between answering, offering choices ("did you mean") and declining. Never raises.

        Small talk ("hi", "thanks", "are you a real person?") is recognised first and never matched to an
        entry, so it is never answered with one and never counted as a gap.
        """
        if isinstance(text, str):
            cached = self._asked.get(text)
            if cached is not None:
                self._asked.move_to_end(text)
                return cached
        outcome = self._ask(text)
        if isinstance(text, str):
            self._asked[text] = outcome
            if len(self._asked) > ASK_CACHE:
                self._asked.popitem(last=False)
        return outcome

    def _ask(self, text: str) -> Outcome:
        """:meth:`ask` without its cache."""
        try:
            talk = small_talk(text) if isinstance(text, str) else None
            if talk is not None:
                return Outcome("smalltalk", None, (), talk)
            ranked = self.search(text, limit=4)
            subject = outside_subject(text, ranked[0].entry if ranked else None)
            broad = len(self._content_terms(text)) <= BROAD_TERMS
        except Exception:  # pragma: no cover - a last guard: a chat bot must never crash on input
            ranked, subject, broad = [], None, False
        if subject is not None:
            return Outcome("decline", ranked[0] if ranked else None, (), outside=subject)
        return self.decide(ranked, broad=broad)

    def _content_terms(self, text: str) -> set[str]:
        """The distinct words of a question that count (stop words and as-typed synonym marks left out)."""
        return {term for term, _, _ in traced_terms(words(clean(text))) if not term.startswith(SPECIFIC_MARK)}

    def decide(self, ranked: list[Match], *, broad: bool = False) -> Outcome:
        """The outcome for ranked matches, by the calibrated thresholds (see :class:`Thresholds`).

        * Answer when the best entry is sure, or above the answer line and clearly ahead of the next.
        * "Did you mean" when it is above the suggestion line but others are close behind (two or three
          entries genuinely in the running), or when it is not quite sure enough to answer.
        * Decline when nothing reaches the suggestion line; the nearest entries still go with it.

        A ``broad`` question (one or two words that count) is held to a stricter idea of "clearly ahead".
        """
        t = self.thresholds
        if not ranked:
            return Outcome("decline", None, ())
        best = ranked[0]
        within = max(t.margin, t.broad_share * best.score) if broad else t.margin
        close = [m for m in ranked[1:3] if best.score - m.score < within and not _linked(best.entry, m.entry)]
        sure = max(t.sure, t.broad_sure) if broad and t.broad_share else t.sure
        if best.score >= sure or (best.score >= t.answer and not close):
            return Outcome("answer", best, ())
        if best.score >= t.suggest:
            offered = [best, *close] if close else [m for m in ranked[:3] if best.score - m.score < t.offer_within]
            return Outcome("suggest", best, tuple(offered))
        return Outcome("decline", best, tuple(m for m in ranked[:3] if m.score >= t.hint_floor))


@dataclass(frozen=True)
class Signals:
    """The signals of one entry for one question, each 0-1."""

    phrasing: float
    union: float
    answer: float
    fuzzy: float
    bm25: float
    information: float


def combine(s: Signals) -> float:
    """The weighted sum of the signals, damped when the question carries little information, as 0-100.

    The damping is what stops "what time is it" (one common word, "time", fully covered) from looking
    like a perfect match: coverage is relative to the question, information is absolute.
    """
    total = damped_total(s.phrasing, s.union, s.answer, s.fuzzy, s.bm25, s.information)
    return round(100.0 * min(max(total, 0.0), 1.0), 2)


Number = float | np.ndarray


def damped_total(phrasing: Number, union: Number, answer: Number, fuzzy: Number, bm25: Number,
                 information: Number) -> Number:
    """:func:`combine` before it is clamped and rounded, for one entry's signals or for arrays of many."""
    total = W_PHRASING * phrasing + W_UNION * union + W_ANSWER * answer + W_FUZZY * fuzzy + W_BM25 * bm25
    return total * information ** INFORMATION_POWER


def bm25_signal(bm25: Number, mass: float) -> Number:
    """The BM25 signal (0-1) of a BM25 score, or of an array of them, for a question of IDF mass ``mass``."""
    return np.minimum(bm25 / mass, BM25_CAP) / BM25_CAP


def _linked(a: Entry, b: Entry) -> bool:
    """Whether the curators linked two entries as follow-ups of each other: two such entries close in score
    are one topic seen from two sides, not a genuine choice, so the better one is answered (and its
    follow-up button offers the other)."""
    return b.id in a.related or a.id in b.related


def _typo_credit(typed: str, known: str) -> float:
    """Credit for reading ``typed`` as ``known``: 0 when the edit is not a plausible typo (see _correct)."""
    if Indel.distance(typed, known) == 1:
        return TYPO_CREDIT_DROPPED
    distance = OSA.distance(typed, known)
    if distance == 1 and sorted(typed) == sorted(known):
        return TYPO_CREDIT_DROPPED
    if len(typed) < 8:
        return 0.0
    if distance == 1:
        return TYPO_CREDIT_CHANGED
    return TYPO_CREDIT_TWO if len(typed) >= 9 and distance == 2 else 0.0


def _idf(n: int, df: int) -> float:
    """BM25's IDF, always positive: common words weigh little, unknown words the most."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def _related(a: str, b: str) -> bool:
    """Whether two stems are prefix relatives: a shared prefix of 7+ letters, or one is the other
    plus at most two letters and at least 5 letters long ("defin" ~ "definit")."""
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    shorter = min(len(a), len(b))
    if common >= 7:
        return True
    return common == shorter and shorter >= 5 and abs(len(a) - len(b)) <= 2


__all__ = ["Match", "Matcher", "Outcome"]
