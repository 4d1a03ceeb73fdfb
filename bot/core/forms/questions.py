"""Does a message read as a question? Forms use it so that "what goes in an MoU?" typed at "What is your
organisation called?" is answered (or confirmed) instead of being saved as the organisation's name.

Deliberately simple and cautious in one direction only: a question mark, or a question word followed by
enough words to be a sentence, unless every word starts with a capital. "Who Cares Trust" (three words,
no mark) and "What Next Community Group" (title case) are names; "how often should we review" is a
question. A false alarm costs one "Did you mean that as the name?" tap, never a lost answer.
"""

from __future__ import annotations

QUESTION_WORDS = frozenset({
    "what", "whats", "what's", "how", "hows", "how's", "why", "when", "where", "wheres", "where's", "who", "whos",
    "who's", "whom", "whose", "which", "can", "could", "should", "would", "will", "do", "does", "did", "is", "are",
    "was", "were", "has", "have", "may", "might", "shall", "must", "any", "anyone", "is't", "isnt", "isn't", "dont",
    "don't", "doesnt", "doesn't", "explain", "tell", "help"})
#: Question-word starts need this many words to count: "Who Cares Trust" is a name, "who signs the mou" is not.
MIN_WORDS = 4


def reads_as_question(text: str) -> bool:
    """True for "what goes in an MoU?", "how often should we review", "can you help me find partners"."""
    value = " ".join(text.split())
    if not value:
        return False
    if "?" in value:
        return True
    words = [w.strip(".,!:;\"'()") for w in value.split()]
    if all(w[:1].isupper() or not w[:1].isalpha() for w in words):
        return False  # "What Next Community Group": a name in title case, not a sentence
    return len(words) >= MIN_WORDS and words[0].lower() in QUESTION_WORDS
