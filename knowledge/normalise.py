"""Text normalisation for question matching: from what a person types to comparable terms.

People on a phone type "MoU", "memorandum of understanding", "memoranda", "organization" or
"partnershp agreemnt" and mean the same things the curators wrote. Everything that makes two
spellings of one idea look alike lives here, so that the knowledge base and the question go through
exactly the same steps (``Matcher`` in :mod:`knowledge.engine` normalises both with these functions).

The pipeline, in order:

1. :func:`clip` cuts the input to :data:`MAX_INPUT_CHARS` *before any other work*, so a 6,000-character
   message costs no more than a 1,000-character one.
2. :func:`clean` does Unicode NFKC, drops control and format characters, folds case, turns typographic
   quotes and dashes into ASCII, expands contractions and removes possessives.
3. :func:`words` splits into words; a hyphenated word yields its joined form *and* its parts, so
   "co-evolution", "coevolution" and "co evolution" meet.
4. :func:`british` folds American spellings into British ones (the knowledge base is written in UK
   English; a US spelling must not become a "new" word).
5. :func:`stem` is Snowball's English stemmer (PyStemmer) so "partners", "partnering" and plurals fold.
6. :func:`canonical_terms` replaces the abbreviations and synonyms of this field (:data:`SYNONYMS`) by one
   concept term, longest phrase first, and drops stop words.

Only the standard library and PyStemmer (a small C extension) are used, so importing this module is cheap.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

import Stemmer

#: Longest text looked at. Questions are short; anything longer is a paste, and its first 1,000
#: characters say what it is about. Cutting first bounds the cost of every later step.
MAX_INPUT_CHARS = 1000

# --------------------------------------------------------------------------------------------------
# 1-3. Cleaning and splitting
# --------------------------------------------------------------------------------------------------

_QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-",
})
_CONTRACTIONS = (
    (re.compile(r"\b(can)'?t\b"), r"\1 not"),
    (re.compile(r"\b(won)'t\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'(s|re|ve|ll|d|m)\b"), ""),
    (re.compile(r"s'(?=\W|$)"), "s"),
)
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")


def clip(text: str, limit: int = MAX_INPUT_CHARS) -> str:
    """Return at most ``limit`` characters: the first step, so later work is bounded."""
    return text[:limit]


_NOT_PLAIN_ASCII = re.compile(r"[^\x20-\x7e]")


def _visible(match: re.Match[str]) -> str:
    return " " if unicodedata.category(match.group())[0] == "C" else match.group()


def _drop_invisible(text: str) -> str:
    """Replace control, format, surrogate and unassigned characters by spaces.

    Zero-width joiners, bidi marks (RTL text), NULs and the like would otherwise split or glue words
    in ways a reader cannot see. Only characters outside printable ASCII are looked up, so plain text
    costs one regex scan.
    """
    return _NOT_PLAIN_ASCII.sub(_visible, text)


def clean(text: str) -> str:
    """Clip, NFKC-normalise, drop invisible characters, casefold, ASCII quotes, expand contractions.

    "Who's in?" and "who’s in" become the same; "&" reads as "and"; the remaining apostrophes are
    removed so "don't" and "dont" meet.
    """
    text = unicodedata.normalize("NFKC", clip(text))
    text = _drop_invisible(text).translate(_QUOTES).casefold()
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text.replace("'", "").replace("&", " and ")


def words(text: str) -> list[str]:
    """Split cleaned text into words; a hyphenated word gives its joined form and then its parts.

    Curators and users disagree on hyphens ("co-locating", "colocating", "well-being", "wellbeing");
    emitting both forms on both sides lets either spelling match.
    """
    out: list[str] = []
    for token in _WORD.findall(text):
        if "-" in token:
            parts = token.split("-")
            out.append("".join(parts))
            out.extend(part for part in parts if len(part) > 2)
        else:
            out.append(token)
    return out


# --------------------------------------------------------------------------------------------------
# 4. British and American spelling
# --------------------------------------------------------------------------------------------------

#: Whole-word American -> British spellings that no suffix rule can guess.
US_TO_UK: dict[str, str] = {
    "behavior": "behaviour", "behaviors": "behaviours", "behavioral": "behavioural",
    "color": "colour", "colors": "colours", "favor": "favour", "favors": "favours",
    "favorite": "favourite", "favorable": "favourable", "honor": "honour", "humor": "humour",
    "labor": "labour", "neighbor": "neighbour", "neighbors": "neighbours", "neighborhood": "neighbourhood",
    "neighborhoods": "neighbourhoods", "endeavor": "endeavour", "endeavors": "endeavours",
    "rumor": "rumour", "vigor": "vigour", "harbor": "harbour", "flavor": "flavour",
    "center": "centre", "centers": "centres", "centered": "centred", "theater": "theatre",
    "fiber": "fibre", "program": "programme", "programs": "programmes", "catalog": "catalogue",
    "dialog": "dialogue", "analog": "analogue", "defense": "defence", "offense": "offence",
    "license": "licence", "licenses": "licences", "practise": "practice", "practised": "practiced",
    "practising": "practicing", "judgment": "judgement", "judgments": "judgements",
    "acknowledgment": "acknowledgement", "aging": "ageing", "fulfill": "fulfil", "fulfills": "fulfils",
    "fulfillment": "fulfilment", "enroll": "enrol", "enrollment": "enrolment", "skillful": "skilful",
    "traveling": "travelling", "traveled": "travelled", "modeling": "modelling", "modeled": "modelled",
    "labeled": "labelled", "labeling": "labelling", "canceled": "cancelled", "canceling": "cancelling",
    "counseling": "counselling", "counselor": "counsellor", "signaling": "signalling",
    "inquiry": "enquiry", "inquiries": "enquiries", "toward": "towards", "learnt": "learned",
    "percent": "per cent", "gray": "grey", "mold": "mould", "plow": "plough", "check-in": "checkin",
}
_IZE = re.compile(r"^(\w{3,})(iz|yz)(e|es|ed|ing|ation|ations|er|ers|able)$")


@lru_cache(maxsize=8192)
def british(word: str) -> str:
    """Fold an American spelling into the British one: a table, then -ize/-yze -> -ise/-yse."""
    if word in US_TO_UK:
        return US_TO_UK[word]
    match = _IZE.match(word)
    if match:
        return match.group(1) + ("is" if match.group(2) == "iz" else "ys") + match.group(3)
    return word


# --------------------------------------------------------------------------------------------------
# 5. Stemming: Snowball's English (Porter2) stemmer from PyStemmer (C, well kept), keeping -er
#    ("supporter", "adviser", "funder" and "leader" are roles in this field, not "support", "advise"...).
#    It replaced a hand-written Porter (1980) stemmer: equal on every set we measured (docs/BENCHMARKS.md).
# --------------------------------------------------------------------------------------------------

#: Words the stemmer would fold into unrelated words ("community" and "communication" both
#: become "commun"; "policy" and "police" nearly meet; "competencies" would become "compet", as
#: "compete" does), pinned to their own stems.
STEM_EXCEPTIONS: dict[str, str] = {
    "community": "communiti", "communities": "communiti", "communal": "communiti",
    "news": "news", "plus": "plus", "always": "always", "across": "across", "process": "process",
    "lsps": "lsp", "vcos": "vco", "mous": "mou", "pcts": "pct", "slas": "sla",
    "cvss": "cvs", "focus": "focus", "bias": "bias", "ethos": "ethos", "status": "status",
    "aims": "aim", "dyes": "dye", "sixty": "sixty", "early": "earli", "only": "only",
    "general": "general", "generic": "generic", "generate": "generat",
    "police": "police", "policing": "police", "policed": "police", "polices": "police",
    "competence": "competenc", "competences": "competenc", "competency": "competenc",
    "competencies": "competenc", "competent": "competenc",
    # "governance" (boards, accountability) is not "government" (a partnership driver).
    "governance": "governanc", "governing": "governanc",
}
_SNOWBALL = Stemmer.Stemmer("english")


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """Stem one lower-case word; numbers, short words and non-Latin words are kept as they are.

    Stemming folds the inflections people vary without meaning anything by it (plural, -ing, -ed,
    -ation): "collaborating" and "collaboration" must count as the same word.
    """
    if word in STEM_EXCEPTIONS:
        return STEM_EXCEPTIONS[word]
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    stemmed = _SNOWBALL.stemWord(word)
    singular = word[:-1] if word.endswith("ers") else word
    if singular.endswith("er") and stemmed + "er" == singular:
        return singular  # a role, not its verb: "supporter", "adviser", "funder" keep their -er
    return stemmed


# --------------------------------------------------------------------------------------------------
# 6. Synonyms of the field and stop words
# --------------------------------------------------------------------------------------------------

#: Abbreviations and synonyms used in UK voluntary-sector partnership work, as concept -> phrases.
#: Each phrase, in any inflection, is replaced by its concept (a concept of several words gives
#: several terms). A concept groups words people use *interchangeably in questions*; words that mark
#: a different idea (funder vs funding, alliance vs partnership) stay apart.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "mou": ("mou", "memorandum of understanding", "memoranda of understanding", "memorandum",
            "memoranda", "memorandums of understanding"),
    "lsp": ("lsp", "local strategic partnership"),
    "vcs": ("vcs", "vco", "vcse", "tso", "ngo", "voluntary and community sector", "voluntary community sector",
            "voluntary and community organisation", "voluntary and community group",
            "voluntary and community", "voluntary sector", "third sector", "third sector organisation",
            "voluntary organisation", "voluntary group", "community organisation", "charity",
            "charitable organisation", "not for profit", "nonprofit", "non profit", "civil society"),
    "cvs": ("cvs", "council for voluntary service", "councils for voluntary service",
            "county voluntary council", "cvc"),
    "sla": ("sla", "service level agreement"),
    "gdpr": ("gdpr", "data protection", "data protection act", "general data protection regulation"),
    "datashare": ("information sharing", "data sharing", "sharing information", "sharing data",
                  "share information", "share data", "share personal data", "information sharing protocol"),
    "consortium": ("consortium", "consortia", "consortiums"),
    "statutory": ("statutory", "statutory body", "statutory bodies", "statutory organisation",
                  "statutory sector", "statutory agency", "statutory agencies", "public sector",
                  "public body", "public bodies", "public authority", "public sector body", "nhs",
                  "pct", "primary care trust", "local authority", "local authorities", "council",
                  "local council", "borough council", "county council", "city council", "district council",
                  "health authority", "ccg", "clinical commissioning group"),
    "partner": ("partner", "partnership", "partnering", "partnership working", "working in partnership",
                "work in partnership", "collaboration",
                "collaborate", "collaborative", "collaborator", "collaborative working", "joint working",
                "work jointly", "working jointly", "working together", "work together", "cooperation",
                "cooperate", "cooperating", "co operation"),
    "kcsc": ("kcsc", "kensington and chelsea social council"),
    "sse": ("sse", "school for social entrepreneurs"),
    "ncvo": ("ncvo", "national council for voluntary organisations"),
    "hact": ("hact", "housing associations charitable trust"),
    "cavs": ("cavs", "carmarthenshire association of voluntary services"),
    "competefor": ("competefor", "compete for"),
    "fund": ("fund", "funding", "money", "cash", "finance", "finances", "financial resources"),
    "bid": ("bid", "bidding", "tender", "tendering", "tender for"),
    "conflict": ("conflict", "disagreement", "dispute", "falling out", "fall out", "fell out", "tension",
                 "clash"),
    "risk": ("risk", "disadvantage", "downside", "drawback", "pitfall", "danger", "cons"),
    "benefit": ("benefit", "advantage", "upside", "pros"),
    "advice": ("advice", "tip", "tips", "guidance", "pointer", "recommendation", "suggestion", "hint"),
    "client": ("client", "service user", "user", "beneficiary", "customer"),
    "staff": ("staff", "employee", "worker", "personnel", "staff member", "member of staff",
              "paid staff"),
    "mentor": ("mentor", "mentoring", "buddy", "buddies", "mentor buddy"),
    "merger": ("merger", "merge", "merging", "amalgamation", "amalgamate"),
    "setup": ("set up", "setting up", "setup", "establish", "start", "begin", "get started",
              "getting started", "kick off"),
    "evaluation": ("evaluation", "evaluate", "assess", "assessment", "appraisal", "appraise"),
    "review": ("review", "check in", "checkin", "health check", "stock take", "stocktake", "take stock"),
    "stage": ("stage", "phase"),
    "lifecycle": ("lifecycle", "life cycle", "lifecycles", "life cycles"),
    "missiondrift": ("mission drift", "missions drift", "mission creep"),
    "steeringgroup": ("steering group", "steering committee", "steering board"),
    "duediligence": ("due diligence",),
    # The consortium worksheet's heading "Who's in - and who's out": every word is a stop word.
    "inorout": ("who's in and who's out", "who is in and who is out", "who's in or who's out",
                "who is in or who is out", "who's in who's out", "who's in and out", "who is in and out"),
    "termsofreference": ("terms of reference",),
    "confidentiality agreement": ("confidentiality agreement", "non disclosure agreement", "nda",
                                  "nondisclosure agreement"),
    "legal entity": ("legal entity", "legal structure", "legal form", "legal status", "legal identity",
                     "legal body", "incorporated body"),
    "senior": ("chief executive", "chief officer", "ceo", "senior management", "senior manager",
               "senior management team", "smt"),
    "problem": ("problem", "issue", "difficulty", "challenge", "obstacle", "barrier", "hurdle"),
    "government": ("government", "govt", "central government"),
    "organisation": ("org", "orgs"),
    "information": ("information", "info"),
    "management": ("management", "mgmt"),
}

#: Function words and question framing ("how do I", "tell me about") that carry no topic. Kept out:
#: negations that change the answer ("never"), particles of phrasal verbs that carry meaning ("wind
#: down", "fall off": IDF already weighs them as common; "out" stays a stop word, as "set out", "find
#: out" and "carry out" are far commoner than "who's out"), and words that name partnership ideas.
def _word_set(text: str) -> frozenset[str]:
    """A set of the whitespace-separated words of ``text`` (long word lists read best as prose)."""
    return frozenset(text.split())


STOP_WORDS: frozenset[str] = _word_set("""
a about above after again against all also am an and any anyone anything are as at be because been
before being below between both but by can could did do does doing done during each either else
etc even ever every few for from further get gets getting go going got had has have having he her here
hers herself him himself his how however i if in into is it its itself just kind know let like lot lots
me mean means might mine more most much must my myself need needs no nor not now of on once one ones
only or other others otherwise our ours ourselves out over own please quite rather really said say says
shall she should so some someone something such tell than thank thanks that the their theirs them
themselves then there these they thing things this those though through thus to too under until up upon
us use used using very via want wanted was way ways we well were what whats when whenever where whereas
whether which while who whom whos whose why will with within without wondering would yes yet you your
yours yourself yourselves hi hello hey dear explain describe define meaning give ok okay yeah yep nope
lol hmm ah oh um er
""")

#: Question framing that is not a topic: "how do we deal with conflict" asks about conflict. Without
#: this, "deal" (rare in the knowledge base, so heavily weighted) would outweigh "conflict".
STOP_PHRASES: tuple[str, ...] = (
    "deal with", "dealing with", "cope with", "coping with", "handle", "handling", "tackle", "tackling",
    "go about", "tell me about", "find out about", "what about", "is there", "are there",
)

#: Prefix of a *specific* term: the word as typed when a synonym replaced it ("collaboration" gives
#: the concept ``partner`` and the specific ``~collabor``). The engine weighs specific terms lightly:
#: enough to prefer the entry that uses the user's own word ("what is cooperation" vs "what is a
#: partnership"), too little to undo the synonym.
SPECIFIC_MARK = "~"

#: Concept terms for each stemmed phrase; built once at import. A concept is stored stemmed, like
#: any other term, so a form of it that no phrase lists ("organise" for "organisation") still meets it.
_PHRASES: dict[tuple[str, ...], tuple[str, ...]] = {}
#: Longest phrase starting with each stem, so most words need one dictionary look-up, not seven.
_LONGEST_FROM: dict[str, int] = {}


def _stem_phrase(phrase: str) -> tuple[str, ...]:
    return tuple(stem(british(word)) for word in words(clean(phrase)))


def _specific(concept: str, key: tuple[str, ...], target: tuple[str, ...]) -> tuple[str, ...]:
    """The specific term a synonym phrase leaves beside its concept, if any (see SPECIFIC_MARK).

    None when the phrase is the concept itself, nor for the long forms of an abbreviation ("memorandum
    of understanding" *is* "MoU": no shade of meaning to keep).
    """
    if key == target or (len(key) > 1 and len(concept) <= 4):
        return ()
    return (SPECIFIC_MARK + "".join(key),)


def _build_phrases() -> None:
    for concept, phrases in SYNONYMS.items():
        target = tuple(stem(word) for word in concept.split())
        for phrase in (concept, *phrases):
            key = _stem_phrase(phrase)
            if not key:
                continue
            specific = _specific(concept, key, target)
            _PHRASES[key] = target + specific
            _LONGEST_FROM[key[0]] = max(_LONGEST_FROM.get(key[0], 0), len(key))
    for phrase in STOP_PHRASES:
        key = _stem_phrase(phrase)
        _PHRASES[key] = ()
        _LONGEST_FROM[key[0]] = max(_LONGEST_FROM.get(key[0], 0), len(key))


_build_phrases()

#: The concept terms of :data:`SYNONYMS` (stemmed): the field's key ideas, which the engine treats as
#: informative even when nearly every entry mentions them ("what is collaboration").
CONCEPTS: frozenset[str] = frozenset(
    stem(word) for concept in SYNONYMS for word in concept.split()
    if concept not in ("organisation", "information", "management", "government"))

#: Every word the synonym table knows (cleaned), so typo correction can aim at "memorandum".
SYNONYM_WORDS: frozenset[str] = frozenset(
    word for phrases in SYNONYMS.values() for phrase in phrases for word in words(clean(phrase)))


def traced_terms(tokens: Sequence[str]) -> list[tuple[str, int, int]]:
    """Map cleaned words to terms, each with the span ``[start, end)`` of the words it came from.

    British spelling, stem, field synonyms (longest phrase first), no stop words. Stop words are
    checked on the word as typed (so "was" is dropped, not its stem "wa"); synonym phrases are matched
    on stems, before stop words go, so "memorandum of understanding" and "memoranda of understanding"
    both become ``mou``. The span lets a caller that corrected a typo know which terms it touched.
    """
    analysed = [_analyse(token) for token in tokens]
    stems = [stem_ for stem_, _ in analysed]
    out: list[tuple[str, int, int]] = []
    i = 0
    while i < len(tokens):
        for length in range(min(_LONGEST_FROM.get(stems[i], 0), len(tokens) - i), 0, -1):
            target = _PHRASES.get(tuple(stems[i: i + length]))
            if target is not None:
                out.extend((term, i, i + length) for term in target)
                i += length
                break
        else:
            if not analysed[i][1]:
                out.append((stems[i], i, i + 1))
            i += 1
    return out


@lru_cache(maxsize=32768)
def _analyse(token: str) -> tuple[str, bool]:
    """A word's stem (after British spelling) and whether it is a stop word, cached per word."""
    spelled = british(token)
    return stem(spelled), token in STOP_WORDS or spelled in STOP_WORDS


def canonical_terms(tokens: Sequence[str]) -> list[str]:
    """The terms of :func:`traced_terms` without their spans."""
    return [term for term, _, _ in traced_terms(tokens)]


def terms(text: str) -> list[str]:
    """The full pipeline for one text: clip, clean, split, spell, stem, synonyms, stop words."""
    return canonical_terms(words(clean(text)))


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats (a question that says "partner" twice asks once)."""
    return list(dict.fromkeys(items))
