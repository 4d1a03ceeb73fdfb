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
import math
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Indel

from knowledge.loader import KnowledgeBase
from knowledge.normalise import (
    CONCEPTS,
    SPECIFIC_MARK,
    STOP_WORDS,
    SYNONYM_WORDS,
    british,
    clean,
    traced_terms,
    unique,
    words,
)
from knowledge.schema import Entry
from knowledge.sources import human_source

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

Kind = Literal["answer", "suggest", "decline"]


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


# ------------------------------------------------------------------------------------------------
# The matcher
# ------------------------------------------------------------------------------------------------


class Matcher:
    """Matches questions to knowledge-base entries; build once, then call :meth:`ask` or :meth:`search`."""

    def __init__(self, kb: KnowledgeBase, *, answer_threshold: float | None = None,
                 suggest_threshold: float | None = None) -> None:
        self.answer_threshold = ANSWER_THRESHOLD if answer_threshold is None else answer_threshold
        self.suggest_threshold = SUGGEST_THRESHOLD if suggest_threshold is None else suggest_threshold
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
        for rank, indexed in enumerate(sorted(self._entries, key=lambda e: e.entry.id, reverse=True)):
            indexed.order = rank
        self._build_bm25()
        self._build_typo_index()
        self._family_cache: dict[str, tuple[tuple[str, float], ...]] = {}
        self._typo_cache: dict[str, tuple[str, float] | None] = {}

    # -- building ---------------------------------------------------------------------------------

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

    def _build_bm25(self) -> None:
        """Inverted index term -> [(entry index, BM25 weight)] over phrasings + keywords + answer."""
        docs: list[Counter[str]] = []
        for indexed in self._entries:
            doc: Counter[str] = Counter()
            for phrasing in indexed.phrasings:
                doc.update(phrasing.terms)
            doc.update(indexed.title_terms)
            doc.update(indexed.answer_terms)
            docs.append(doc)
        avg = sum(sum(d.values()) for d in docs) / max(len(docs), 1)
        postings: dict[str, tuple[array[int], array[float]]] = {}
        for index, doc in enumerate(docs):
            norm = BM25_K1 * (1 - BM25_B + BM25_B * sum(doc.values()) / max(avg, 1e-9))
            for term, tf in doc.items():
                ids, weights = postings.get(term) or postings.setdefault(term, (array("l"), array("d")))
                ids.append(index)
                weights.append(self._idf[term] * tf * (BM25_K1 + 1) / (tf + norm))
        #: term -> (entry indices, BM25 weights): typed arrays hold 16 bytes a posting, not ~90.
        self._postings = postings
        self._vocab = frozenset(self._postings)
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
        for position, qterm in enumerate(query.terms):
            for stem_, credit in qterm.expansions:
                query.by_stem.setdefault(stem_, []).append((position, credit))
        return query

    # -- scoring ----------------------------------------------------------------------------------

    def _candidates(self, query: _Query) -> dict[int, float]:
        """BM25 score of every entry sharing a term with the question (the inverted index's work)."""
        scores: dict[int, float] = defaultdict(float)
        for qterm in query.terms:
            for term, credit in qterm.expansions:
                posting = self._postings.get(term)
                if posting is not None:
                    for index, weight in zip(*posting, strict=True):
                        scores[index] += weight * credit
        return scores

    def _signals(self, indexed: _IndexedEntry, query: _Query, bm25: float) -> Signals:
        """Each signal of one entry for one question, 0-1 (see the module docstring for why each)."""
        return self._full(self._cheap(indexed, query, bm25), indexed, query)

    def _cheap(self, indexed: _IndexedEntry, query: _Query, bm25: float) -> Signals:
        """The signals that cost a few set look-ups; phrasing and fuzzy are left at their upper bounds.

        A phrasing is part of the entry's title terms, so it cannot cover more of the question than
        they do: ``phrasing <= ALPHA * union + (1 - ALPHA)``. That bound lets :meth:`search` skip the
        expensive signals for candidates that cannot reach the top. The information a question carries
        counts matched terms in full: a typo's discount is applied once, in the coverage signals.
        """
        title, answer = indexed.title_terms, indexed.answer_terms
        union = in_answer = matched = 0.0
        for qterm in query.terms:
            by_title = by_answer = 0.0
            for term, credit in qterm.expansions:
                if credit > by_title and term in title:
                    by_title = credit
                if credit > by_answer and term in answer:
                    by_answer = credit
            union += qterm.weight * by_title
            in_answer += qterm.weight * by_answer
            if by_title or by_answer:
                matched += qterm.info
        mass = query.mass
        return Signals(
            phrasing=ALPHA * union / mass + (1 - ALPHA),
            union=union / mass,
            answer=in_answer / mass,
            fuzzy=1.0,
            bm25=min(bm25 / mass, BM25_CAP) / BM25_CAP,
            information=min(matched / self._information_full, 1.0),
        )

    def _full(self, cheap: Signals, indexed: _IndexedEntry, query: _Query) -> Signals:
        """Fill in the phrasing and fuzzy signals of :meth:`_cheap`'s result."""
        mass = query.mass
        phrasing = max(self._phrasing_score(p, query, mass) for p in indexed.phrasings)
        return Signals(phrasing, cheap.union, cheap.answer, self._fuzzy(indexed, query.text) / 100.0,
                       cheap.bm25, cheap.information)

    def _phrasing_score(self, phrasing: _Phrasing, query: _Query, mass: float) -> float:
        """ALPHA x (question covered by the phrasing) + (1 - ALPHA) x (phrasing covered by the question).

        Walks the phrasing's few terms through the question's stem -> (term, credit) map, so the cost
        is a handful of dictionary look-ups whatever the question's length.
        """
        best: dict[int, float] = {}
        back = 0.0
        for term in phrasing.terms:
            hits = query.by_stem.get(term)
            if hits is None:
                continue
            top = 0.0
            for position, credit in hits:
                if credit > best.get(position, 0.0):
                    best[position] = credit
                top = max(top, credit)
            back += self._idf[term] * top
        if not best:
            return 0.0
        covered = sum(query.terms[position].weight * credit for position, credit in best.items())
        return ALPHA * covered / mass + (1 - ALPHA) * min(back / phrasing.mass, 1.0)

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

    def search(self, text: str, limit: int = 5) -> list[Match]:
        """Entries ranked by score, best first, at most ``limit``; empty when nothing shares a word.

        Candidates come from the BM25 index; the cheap signals give each an upper bound, and the
        expensive ones (phrasings, rapidfuzz) are computed best bound first until no remaining
        candidate can enter the top ``limit``: the ranking is exact, the work is a fraction.
        """
        if not isinstance(text, str) or limit <= 0:
            return []
        query = self._query(text)
        if not query.terms or query.mass <= 0:
            return []
        bm25 = self._candidates(query)
        pool = heapq.nlargest(max(CANDIDATES, limit), bm25.items(), key=lambda item: item[1])
        bounded = [(self._cheap(self._entries[i], query, b), i) for i, b in pool]
        bounded = [(combine(cheap), cheap, i) for cheap, i in bounded]
        bounded.sort(key=lambda item: -item[0])
        top: list[tuple[float, int, int]] = []  # min-heap of (score, id order, entry index)
        for bound, cheap, index in bounded:
            if len(top) >= limit and bound < top[0][0]:
                break
            indexed = self._entries[index]
            item = (combine(self._full(cheap, indexed, query)), indexed.order, index)
            if len(top) < limit:
                heapq.heappush(top, item)
            elif item > top[0]:
                heapq.heapreplace(top, item)
        ranked = sorted(top, reverse=True)
        return [Match(self._entries[index].entry, score) for score, _, index in ranked]

    def ask(self, text: str) -> Outcome:
        """Decide between answering, offering choices ("did you mean") and declining. Never raises."""
        try:
            ranked = self.search(text, limit=4)
        except Exception:  # pragma: no cover - a last guard: a chat bot must never crash on input
            ranked = []
        return self.decide(ranked)

    def decide(self, ranked: list[Match]) -> Outcome:
        """The outcome for ranked matches, by the calibrated thresholds (see the module constants)."""
        if not ranked:
            return Outcome("decline", None, ())
        best = ranked[0]
        if best.score >= self.answer_threshold:
            close = len(ranked) > 1 and best.score - ranked[1].score < AMBIGUITY_MARGIN
            if close and best.score < SURE_THRESHOLD:
                return Outcome("suggest", best, tuple(m for m in ranked[:3] if m.score >= self.suggest_threshold))
            return Outcome("answer", best, ())
        if best.score >= self.suggest_threshold:
            return Outcome("suggest", best, tuple(m for m in ranked[:3] if m.score >= self.suggest_threshold))
        return Outcome("decline", best, tuple(m for m in ranked[:3] if m.score >= DECLINE_HINT_FLOOR))


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
    total = (W_PHRASING * s.phrasing + W_UNION * s.union + W_ANSWER * s.answer + W_FUZZY * s.fuzzy
             + W_BM25 * s.bm25)
    total *= s.information ** INFORMATION_POWER
    return round(100.0 * min(max(total, 0.0), 1.0), 2)


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
