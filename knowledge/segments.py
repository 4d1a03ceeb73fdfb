"""Finding the question inside a long message.

A busy person writes three sentences of context ("we're a tiny befriending charity, the council has hinted
it would fund us...") and one that asks ("how do we go from informal to formal?"). Matched as one block,
the context words pull towards whatever entry mentions councils and funding. So a message is split into
sentences, each sentence that asks is matched on its own as well as the whole message, and context
sentences count for a little less (see :data:`CONTEXT_WEIGHT` in :mod:`knowledge.engine`).

Plain rules, no Telegram and no model: a sentence asks when it has a question mark, starts like a question
("how", "should we", "is it"...), or holds a phrase that asks for help ("where do we even start", "any
advice", "not sure how"). Short messages are one segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Messages shorter than this (characters) are matched whole, as before: splitting a one-liner only adds noise.
SPLIT_FROM_CHARS = 140
#: At most this many sentences are matched on their own (the asking ones first): bounds the cost of a paste.
MAX_SENTENCES = 6
#: Sentences shorter than this many words are folded into the next one ("Quick one." "Sorry for the essay.").
MIN_WORDS = 4
#: An asking sentence with at most this many words of substance is read together with the one before it.
THIN_QUESTION_WORDS = 2

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+|(?<=\w)\s+-{1,2}\s+(?=\w)|;\s+")
_QUESTION_START = re.compile(
    r"^(?:so|and|but|also|basically|honestly|ok|okay|right|anyway|just|hi|hiya|hello|hey|sorry|um|erm|well)?[\s,]*"
    r"(?:how|what|whats|what's|why|when|where|who|whose|which|should|shall|can|could|would|will|do|does|did|"
    r"is|are|was|were|has|have|any|anyone|must|may)\b",
    re.IGNORECASE,
)
_ASKING_PHRASES = re.compile(
    r"\b(?:where (?:do|would|should|can) (?:we|i|you) (?:even )?start|any (?:advice|tips|ideas|thoughts|pointers|help)|"
    r"not sure (?:how|what|where|whether|if)|(?:i|we) (?:want|need|would like) to know|"
    r"wondering (?:how|what|if|whether)|how (?:do|does|should|can|could|would|to)|"
    r"what (?:do|does|should|can|could|would|is|are)|advice on|help (?:me|us) (?:with|to)|tell me|"
    r"is it (?:normal|common|worth|ok|okay)|is that (?:normal|common|ok|okay))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Segment:
    """A piece of a message to match: its text and whether it asks (else it is context)."""

    text: str
    asks: bool


def asks(sentence: str) -> bool:
    """Whether a sentence is a question or a request for help rather than background."""
    stripped = sentence.strip()
    return "?" in stripped or bool(_QUESTION_START.match(stripped)) or bool(_ASKING_PHRASES.search(stripped))


def sentences(text: str) -> list[str]:
    """The sentences of a message, very short ones folded into the next."""
    pieces = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    merged: list[str] = []
    carry = ""
    for piece in pieces:
        joined = f"{carry} {piece}".strip() if carry else piece
        if len(joined.split()) < MIN_WORDS:
            carry = joined
            continue
        merged.append(joined)
        carry = ""
    if carry:
        if merged and not asks(carry):
            merged[-1] = f"{merged[-1]} {carry}"
        else:
            merged.append(carry)
    return merged


def segments(text: str) -> list[Segment]:
    """The segments to match: the whole message first, then (for long ones) its sentences, asking ones first.

    When nothing in a long message looks like a question, every sentence counts as asking: someone who
    writes "we need a data sharing agreement with the council." still wants to know about it.
    """
    whole = Segment(text, True)
    if len(text) < SPLIT_FROM_CHARS:
        return [whole]
    found = sentences(text)
    if len(found) <= 1:
        return [whole]
    flags = [asks(s) for s in found]
    if not any(flags):
        flags = [True] * len(found)
    # An asking sentence with little of its own ("What are the pros and cons of each?", "is that normal?")
    # asks about the sentence before it: match the two together.
    for i in range(1, len(found)):
        if flags[i] and not flags[i - 1] and len(_content_words(found[i])) <= THIN_QUESTION_WORDS:
            found[i] = f"{found[i - 1]} {found[i]}"
    ordered = sorted(zip(found, flags, strict=True), key=lambda item: not item[1])[:MAX_SENTENCES]
    return [whole, *(Segment(s, flag) for s, flag in ordered)]


_FILLER_WORDS = (
    "a an the and or but so of to in on for with at by from is are was were be been am do does did have has had "
    "i we you they it this that these those my our your their what how why when where who which should shall "
    "can could would will may might must any anyone anything there here each both either just really even "
    "actually still then than too very much more most best way ways thing things about if not no yes start "
    "normal common ok okay advice tips pros cons help idea ideas thoughts sure know"
)
_FILLER = frozenset(_FILLER_WORDS.split())


def _content_words(sentence: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]+", sentence.lower()) if w not in _FILLER and len(w) > 2]
