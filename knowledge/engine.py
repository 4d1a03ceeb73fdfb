"""Question matching: from a typed question to an entry of the knowledge base, or an honest "no".

The :class:`Matcher` is built once from a :class:`~knowledge.loader.KnowledgeBase` and answers from
memory. Both the entries and the question go through :mod:`knowledge.normalise`, so spelling, case,
synonyms ("MoU" / "memorandum of understanding") and inflections are already out of the way when
scores are computed. A question is then scored against each candidate entry with several signals,
each there for a reason:

* **IDF-weighted coverage of the question by one phrasing** (the canonical question or an alternate).
  The curators wrote several ways people ask each question; a question that is mostly covered by one
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
"how do I change a car tyre" decline even though "change" is a topic here. Typos are corrected before
that, against the knowledge base's own vocabulary ("partnershp agreemnt" -> "partnership agreement"),
at a small discount. The three outcomes come from calibrated thresholds; see :data:`ANSWER_THRESHOLD`.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Indel

from knowledge.loader import KnowledgeBase
from knowledge.normalise import (
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

#: Scores at or above this answer directly. Calibrated on questions that are NOT in the dev set: each
#: entry's alternates held out in turn (the entry is re-indexed without it, five folds) against about
#: 90 off-topic questions written for calibration (weather, sport, sums, recipes, IT help, chit-chat,
#: gibberish, and near misses that use the field's words: "my partner is cheating on me", "council
#: tax"). The threshold is the lowest that keeps off-topic questions answered below 2 %.
ANSWER_THRESHOLD = 50.0
#: Between this and :data:`ANSWER_THRESHOLD` the bot offers "did you mean" choices instead of guessing;
#: below it, it declines. Calibrated on the same sets: the highest value that still offers a choice
#: for most held-out phrasings that miss the answer threshold, while almost no off-topic question gets
#: one.
SUGGEST_THRESHOLD = 40.0
#: When two different entries score within this many points of each other and the best is below
#: :data:`SURE_THRESHOLD`, the question is ambiguous: the bot asks rather than picks.
AMBIGUITY_MARGIN = 1.0
#: Above this score the best entry is answered even when another entry is close behind.
SURE_THRESHOLD = 60.0
#: Nearest entries offered with a decline must score at least this (0 would suggest noise).
DECLINE_HINT_FLOOR = 22.0

#: Weights of the signals in the final 0-100 score (they sum to 1).
W_PHRASING = 0.30
W_UNION = 0.20
W_ANSWER = 0.20
W_FUZZY = 0.15
W_BM25 = 0.15
#: In the phrasing signal, the share of "question covered by the phrasing" against "phrasing covered
#: by the question". The question side counts more: an extra word in a long alternate is harmless.
ALPHA = 0.7

#: IDF mass a question must match to be fully trusted: about one word found in 5 % of entries
#: (idf ~ 3). A question made only of common words ("partnership", "time") is damped by
#: (matched / INFORMATION_FULL) ** INFORMATION_POWER.
INFORMATION_FULL = 3.0
INFORMATION_POWER = 1.0

#: Credit for a word matched only through a typo correction or a prefix relative: less sure than an
#: exact match, so it cannot lift a question over the threshold on its own as easily.
TYPO_CREDIT_DROPPED = 0.9
TYPO_CREDIT_CHANGED = 0.75
TYPO_CREDIT_TWO = 0.7
FAMILY_CREDIT = 0.8
#: Entries fully scored per question, chosen by BM25 (plus any that match a rare title word).
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
    """A question or an alternate: its terms, their IDF mass, and its text for fuzzy matching."""

    terms: frozenset[str]
    mass: float
    text: str


@dataclass
class _IndexedEntry:
    """Everything precomputed about one entry."""

    entry: Entry
    phrasings: list[_Phrasing]
    title_terms: frozenset[str]
    answer_terms: frozenset[str]
    texts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _QueryTerm:
    """A term of the question: its weight (IDF x typo discount) and the stems it may match."""

    term: str
    weight: float
    expansions: tuple[tuple[str, float], ...]


@dataclass
class _Query:
    terms: list[_QueryTerm] = field(default_factory=list)
    text: str = ""

    @property
    def mass(self) -> float:
        return sum(t.weight for t in self.terms)


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
        self._idf = {term: _idf(n, df) for term, df in self._df.items()}
        self._unknown_idf = _idf(n, 0)
        self._mass_phrasings()
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
            found = self._terms_of(text)
            phrasings.append(_Phrasing(frozenset(found), 0.0, " ".join(unique(found))))
        section = entry.source.split(":", 1)[1] if ":" in entry.source else ""
        title = set().union(*(p.terms for p in phrasings))
        title.update(self._terms_of(" . ".join(entry.keywords)), self._terms_of(section))
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
            indexed.phrasings = [
                _Phrasing(p.terms, sum(self._idf[t] for t in p.terms), p.text) for p in indexed.phrasings]
            indexed.texts = [p.text for p in indexed.phrasings]

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
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, doc in enumerate(docs):
            norm = BM25_K1 * (1 - BM25_B + BM25_B * sum(doc.values()) / max(avg, 1e-9))
            for term, tf in doc.items():
                weight = self._idf[term] * tf * (BM25_K1 + 1) / (tf + norm)
                self._postings[term].append((index, weight))
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
        to a word with the same first letter (typos rarely hit it) and never to a stop word. Short
        words may only have lost, gained or swapped a letter (one changed letter in a short word is
        too often another real word: "tyre" is not "type"); words of 6+ letters may have one edit, of
        9+ two. A dropped or swapped letter is the commonest typo and earns more credit than a
        changed one, because "cheating" -> "creating" is a guess while "agreemnt" -> "agreement" is not.
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
            seen[term] = max(seen.get(term, 0.0), min(discount[start:end]))
        for term, credit in seen.items():
            expansions = ((term, credit),) if term in self._vocab else ()
            expansions += tuple((other, c * credit) for other, c in self._family(term))
            idf = self._idf.get(term)
            if idf is None:
                idf = max((self._idf[o] for o, _ in expansions), default=self._unknown_idf)
            query.terms.append(_QueryTerm(term, idf, expansions))
        query.text = " ".join(seen)
        return query

    # -- scoring ----------------------------------------------------------------------------------

    def _candidates(self, query: _Query) -> dict[int, float]:
        """BM25 score of every entry sharing a term with the question (the inverted index's work)."""
        scores: dict[int, float] = defaultdict(float)
        for qterm in query.terms:
            for term, credit in qterm.expansions:
                for index, weight in self._postings.get(term, ()):
                    scores[index] += weight * credit
        return scores

    def _signals(self, indexed: _IndexedEntry, query: _Query, bm25: float) -> Signals:
        """Each signal of one entry for one question, 0-1 (see the module docstring for why each)."""
        return self._full(self._cheap(indexed, query, bm25), indexed, query)

    def _cheap(self, indexed: _IndexedEntry, query: _Query, bm25: float) -> Signals:
        """The signals that cost a few set look-ups; phrasing and fuzzy are left at their upper bounds.

        A phrasing is part of the entry's title terms, so it cannot cover more of the question than
        they do: ``phrasing <= ALPHA * union + (1 - ALPHA)``. That bound lets :meth:`search` skip the
        expensive signals for candidates that cannot reach the top.
        """
        mass = query.mass
        union = self._coverage(indexed.title_terms, query) / mass
        matched = self._coverage(indexed.title_terms | indexed.answer_terms, query, credited=False)
        return Signals(
            phrasing=ALPHA * union + (1 - ALPHA),
            union=union,
            answer=self._coverage(indexed.answer_terms, query) / mass,
            fuzzy=1.0,
            bm25=min(bm25 / mass, BM25_CAP) / BM25_CAP,
            information=min(matched / INFORMATION_FULL, 1.0),
        )

    def _full(self, cheap: Signals, indexed: _IndexedEntry, query: _Query) -> Signals:
        """Fill in the phrasing and fuzzy signals of :meth:`_cheap`'s result."""
        mass = query.mass
        phrasing = max(self._phrasing_score(p, query, mass) for p in indexed.phrasings)
        return replace(cheap, phrasing=phrasing, fuzzy=self._fuzzy(indexed, query.text) / 100.0)

    @staticmethod
    def _coverage(terms: frozenset[str], query: _Query, *, credited: bool = True) -> float:
        """IDF mass of the question's terms found in ``terms``: times the best credit per question term,
        or in full (``credited=False``, for the information a question carries, which a typo does not
        lessen: the discount is applied once, in the coverage signals)."""
        total = 0.0
        for qterm in query.terms:
            credit = max((c for t, c in qterm.expansions if t in terms), default=0.0)
            total += qterm.weight * (credit if credited else float(credit > 0))
        return total

    def _phrasing_score(self, phrasing: _Phrasing, query: _Query, mass: float) -> float:
        """ALPHA x (question covered by the phrasing) + (1 - ALPHA) x (phrasing covered by the question)."""
        covered = 0.0
        matched: dict[str, float] = {}
        for qterm in query.terms:
            best = 0.0
            for term, credit in qterm.expansions:
                if term in phrasing.terms and credit > best:
                    best = credit
                    if matched.get(term, 0.0) < credit:
                        matched[term] = credit
            covered += qterm.weight * best
        if not covered:
            return 0.0
        back = sum(self._idf[t] * c for t, c in matched.items()) / phrasing.mass if phrasing.mass else 0.0
        return ALPHA * covered / mass + (1 - ALPHA) * min(back, 1.0)

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
        top: list[tuple[float, str, int]] = []  # min-heap of (score, negated-id key, index)
        for bound, cheap, index in bounded:
            if len(top) >= limit and bound < top[0][0]:
                break
            indexed = self._entries[index]
            item = (combine(self._full(cheap, indexed, query)), _desc(indexed.entry.id), index)
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


def _desc(entry_id: str) -> tuple[int, ...]:
    """A key that sorts ids in reverse, so that among equal scores the alphabetically first id wins."""
    return tuple(-ord(ch) for ch in entry_id)


def _typo_credit(typed: str, known: str) -> float:
    """Credit for reading ``typed`` as ``known``: 0 when the edit is not a plausible typo (see _correct)."""
    if Indel.distance(typed, known) == 1:
        return TYPO_CREDIT_DROPPED
    distance = OSA.distance(typed, known)
    if distance == 1 and sorted(typed) == sorted(known):
        return TYPO_CREDIT_DROPPED
    if len(typed) < 6:
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


def build_matcher(kb: KnowledgeBase | None = None) -> Matcher:
    """A matcher over ``kb``, or over the knowledge base on disk when none is given."""
    if kb is None:
        from knowledge.loader import load_knowledge_base

        kb = load_knowledge_base()
    return Matcher(kb)


__all__: Iterable[str] = ["Match", "Matcher", "Outcome", "build_matcher"]
