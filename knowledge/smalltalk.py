"""Small talk: "hi", "thanks", "ok", "are you a real person?", "what can you do?".

These are not questions for the knowledge base. Matched as questions they produced "Sorry, I don't have an
answer to that", which is cold, and a gap for curators, which is wrong. So a message made only of small-talk
words (greetings, thanks, acknowledgements, goodbyes, questions about the bot itself, emoji and
punctuation) is recognised before matching and gets a short, warm reply saying what the bot can do.

A message with anything else in it ("thanks, and how do we share data?") is not small talk: the question
is matched as usual. Plain rules; no Telegram types.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Talk = Literal["greeting", "thanks", "bye", "ack", "identity", "abilities"]

_PHRASES: dict[Talk, tuple[str, ...]] = {
    "identity": (
        "are you a real person", "are you real", "are you a person", "are you human", "are you a human",
        "are you a bot", "are you a robot", "are you a machine", "are you ai", "are you an ai",
        "is this a bot", "is this a real person", "am i talking to a person", "am i talking to a bot",
        "am i talking to a real person", "who am i talking to", "who are you", "what are you",
        "is anyone there", "anyone there", "are you a bot or a real person", "bot or human",
        "are you a bot or a person", "are you a bot or a human", "real person", "is this automated",
    ),
    "abilities": (
        "what can you do", "what do you do", "what can you help with", "what can you help me with",
        "how can you help", "how can you help me", "what are you for", "how does this work",
        "what do you know", "what can i ask", "what can i ask you", "help", "help me", "start", "menu",
        "what is this", "what is this bot", "what are you able to do",
    ),
    "thanks": (
        "thanks", "thank you", "thankyou", "thanks a lot", "thanks so much", "thank you so much", "many thanks",
        "cheers", "ta", "thx", "ty", "tysm", "much appreciated", "appreciated", "appreciate it",
        "that is helpful", "that is really helpful", "thats helpful", "thats really helpful", "very helpful",
        "really helpful", "helpful", "that helps", "that helped", "brill", "brilliant", "perfect", "lovely",
        "great", "amazing", "awesome", "excellent", "fab", "fantastic", "nice one", "nice", "cool", "super",
        "wonderful", "good", "very good", "mate", "thanks mate", "cheers mate", "ta mate", "thanks again",
        "you are a star", "youre a star", "legend", "so much", "a lot", "really", "that is great",
        "thats great", "that was helpful", "that was useful", "useful", "very useful", "good bot",
    ),
    "greeting": (
        "hi", "hii", "hiii", "hello", "helo", "hallo", "hey", "heya", "hiya", "hey there", "hi there",
        "hello there", "good morning", "morning", "good afternoon", "afternoon", "good evening", "evening",
        "yo", "howdy", "greetings", "how are you", "how are you doing", "you ok", "you alright", "alright",
        "hows it going", "how is it going", "hi bot", "hello bot", "hey bot", "partnerbot", "bot",
    ),
    "bye": (
        "bye", "goodbye", "bye bye", "see you", "see ya", "see you later", "cya", "night", "good night",
        "goodnight", "speak soon", "talk soon", "take care", "that is all", "thats all", "that is it",
        "thats it", "all done", "done",
    ),
    "ack": (
        "ok", "okay", "okey", "k", "kk", "oki", "okie", "ok then", "okay then", "right", "sure", "fine",
        "got it", "gotcha", "understood", "noted", "i see", "ah", "ahh", "oh", "ooh", "hmm", "hm", "um",
        "erm", "yes", "yeah", "yep", "yup", "no", "nope", "nah", "lol", "haha", "hahaha", "lmao", "sorry",
        "no worries", "np", "will do", "sounds good", "makes sense", "fair enough", "oh ok", "ah ok",
        "and", "so", "well", "just", "then", "too", "please", "pls", "x", "xx", "xxx",
    ),
}
#: Each phrase as a word tuple, with its kind; longest first so "thank you so much" beats "thank you".
_TABLE = sorted(((tuple(p.split()), kind) for kind, ps in _PHRASES.items() for p in ps),
                key=lambda item: -len(item[0]))
_PRIORITY: tuple[Talk, ...] = ("identity", "abilities", "thanks", "bye", "greeting", "ack")
_WORD = re.compile(r"[a-z]+")
#: Longer messages are never small talk: a real question hides in them.
MAX_CHARS = 80


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold().replace("'", "").replace("\u2019", "")
    return _WORD.findall(folded)


def small_talk(text: str) -> Talk | None:
    """The kind of small talk a message is, or None when it holds anything else (then it is a question)."""
    if not text or len(text) > MAX_CHARS:
        return None
    tokens = _words(text)
    if not tokens:  # "👍" or "🙏🙂" alone is a nod; "?" or "!!!" alone is not small talk
        return "ack" if any(unicodedata.category(ch) == "So" for ch in text) else None
    found: set[Talk] = set()
    i = 0
    while i < len(tokens):
        for phrase, kind in _TABLE:
            if tuple(tokens[i:i + len(phrase)]) == phrase:
                found.add(kind)
                i += len(phrase)
                break
        else:
            return None
    return next(kind for kind in _PRIORITY if kind in found)


ABILITIES = ("I answer questions about working in partnership (agreements and MoUs, consortia and bids, "
             "governance, conflict, reviews and more): just type your question in your own words. I can also "
             "find you a mentor buddy (/mentor) and remind your partnership to review how it's going (/partnership). "
             "/topics shows what I know.")


def reply(kind: Talk) -> str:
    """A short, warm answer to small talk that says what the bot can do."""
    opening = {
        "greeting": "Hello! I'm PartnerBot.",
        "thanks": "You're welcome, glad to help.",
        "bye": "Thanks for stopping by. Good luck with your partnership!",
        "ack": "Right you are.",
        "identity": "I'm PartnerBot, an automatic helper (not a person), built on guidance written for "
                    "voluntary and community organisations.",
        "abilities": "Here's what I can do.",
    }[kind]
    if kind == "bye":
        return opening
    return f"{opening} {ABILITIES}"
