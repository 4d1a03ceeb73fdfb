"""Near-topic questions the knowledge base does not cover: benefits, VAT and tax, employment law, funding
bids, insurance, checks on staff, accounts and premises.

They are asked by the same people, in the same words ("partner", "consortium", "charity"), so closeness in
words and in meaning can lift them to an entry that merely mentions a partner: "what insurance do we need
when delivering for a consortium" is not about what a consortium is. A question that names one of these
subjects is declined kindly, with a pointer to real help (the local council for voluntary service), unless
the best entry is itself about that subject (its question, alternates or keywords name it, as "gift aid
between partner charities" does).

Plain rules: the subjects are few, stable and named by the people who run the bot (issue 12).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.schema import Entry


@dataclass(frozen=True)
class Subject:
    """A subject outside the knowledge base, how to recognise it, and what to call it in a reply."""

    name: str
    pattern: re.Pattern[str]


def _subject(name: str, *phrases: str) -> Subject:
    return Subject(name, re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE))


SUBJECTS: tuple[Subject, ...] = (
    _subject("welfare benefits", r"universal credit", r"housing benefit", r"(?:welfare|state|disability) benefits?",
             r"pip", r"esa", r"jobseekers?", r"jsa", r"dwp", r"(?:claim|claiming|on) benefits?",
             r"benefits? (?:claim|advice|entitlement|check)", r"pension credit", r"council tax reduction"),
    _subject("VAT and tax", r"vat", r"hmrc", r"tax returns?", r"income tax", r"corporation tax", r"self assessment",
             r"business rates", r"rate relief", r"paye"),
    _subject("employment law and HR", r"employment (?:law|contracts?|rights|tribunal)", r"contracts? of employment",
             r"redundan\w*", r"tupe", r"minimum wage", r"living wage", r"holiday pay", r"sick pay", r"payroll",
             r"maternity", r"paternity", r"disciplinary", r"grievance", r"unfair dismissal", r"dismiss\w*",
             r"pension auto.?enrol\w*", r"auto.?enrol\w*", r"workplace pension", r"job description"),
    _subject("funding applications", r"lottery", r"awards for all", r"grant applications?", r"apply for (?:a )?grants?",
             r"grant funding for", r"fundraising (?:officer|strategy|ideas)", r"crowdfund\w*", r"grants? for"),
    _subject("insurance", r"insurance", r"insured", r"indemnity", r"public liability"),
    _subject("checks on staff and volunteers", r"dbs", r"disclosure and barring", r"criminal record checks?"),
    _subject("accounts and registration", r"annual return", r"annual accounts", r"accountant", r"accounting",
             r"bookkeep\w*", r"audit(?:or|ors|ed)?", r"independent examiner", r"register as a charity",
             r"charity registration", r"cio registration"),
    _subject("premises", r"lease", r"landlord", r"rent (?:increase|review|arrears)", r"the rent",
             r"parking (?:ticket|fine)"),
)


def outside_subject(text: str, best: Entry | None) -> str | None:
    """The uncovered subject a question is about, or None (not near-topic, or the best entry covers it)."""
    for subject in SUBJECTS:
        if subject.pattern.search(text):
            if best is not None and any(subject.pattern.search(phrase) for phrase in
                                        (best.question, *best.alternates, *best.keywords)):
                return None
            return subject.name
    return None
