"""The load scenario shared by the load test and benchmarks/bench_load.py: many people, each asking
questions and pressing buttons one after another, as people do, all at the same time."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass, field

from tests.fake_telegram import FakeTelegram

QUESTIONS = [
    "what goes in a memorandum of understanding", "how do we choose partners for a consortium",
    "what is due diligence", "benefits of partnership working", "risks of working in partnership",
    "how do we deal with conflict between partners", "what is a steering group", "what's the weather today",
    "how do we keep communication going", "do we need to be a legal entity", "levels of partnership",
    "what is a lead agency", "tell me a joke", "what is partnership culture", "stakeholder analysis",
]
STEP_TIMEOUT = 30.0


@dataclass
class LoadResult:
    people: int
    messages: int
    reply_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def percentile(self, q: float) -> float:
        if not self.reply_ms:
            return float("nan")
        return statistics.quantiles(self.reply_ms, n=100, method="inclusive")[int(q) - 1]

    def summary(self) -> str:
        return (f"{self.people} people x {self.messages // max(self.people, 1)} messages = {self.messages} in "
                f"{self.seconds:.1f} s; replies p50 {self.percentile(50):.0f} ms, p95 {self.percentile(95):.0f} ms; "
                f"failures {len(self.failures)}")


class _Arrivals:
    """One asyncio.Event per chat, set from the fake server's threads when the bot sends there."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.loop = asyncio.get_running_loop()
        self.events: dict[int, asyncio.Event] = {}
        fake.api.on_record = lambda sent: self.loop.call_soon_threadsafe(self._set, sent.chat_id)

    def _set(self, chat_id: int) -> None:
        self.events.setdefault(chat_id, asyncio.Event()).set()

    def event(self, chat_id: int) -> asyncio.Event:
        return self.events.setdefault(chat_id, asyncio.Event())


async def _wait_reply(fake: FakeTelegram, arrivals: _Arrivals, chat_id: int, seen: int) -> float | None:
    """When the first message after the ``seen`` earlier ones reached ``chat_id``."""
    deadline = time.monotonic() + STEP_TIMEOUT
    event = arrivals.event(chat_id)
    while (remaining := deadline - time.monotonic()) > 0:
        sent = fake.api.by_chat.get(chat_id, [])
        if len(sent) > seen:
            return sent[seen].at
        event.clear()
        if len(fake.api.by_chat.get(chat_id, [])) > seen:
            continue
        try:
            await asyncio.wait_for(event.wait(), remaining)
        except TimeoutError:
            return None
    return None


async def _person(fake: FakeTelegram, arrivals: _Arrivals, user_id: int, steps: int, rng: random.Random,
                  result: LoadResult) -> None:
    person = fake.person(user_id, f"P{user_id}")
    last_with_buttons = None
    for step in range(steps):
        seen = len(fake.api.by_chat.get(user_id, []))
        started = time.monotonic()
        buttons = [d for _, d in last_with_buttons.buttons() if d.startswith("e:")] if last_with_buttons else []
        if buttons and step % 3 == 2:
            fake.api.press(person, user_id, last_with_buttons.message_id, rng.choice(buttons))  # type: ignore[union-attr]
        else:
            fake.say(person, rng.choice(QUESTIONS))
        sent_at = await _wait_reply(fake, arrivals, user_id, seen)
        if sent_at is None:
            result.failures.append(f"person {user_id} step {step}: no reply in {STEP_TIMEOUT:.0f} s")
            return
        result.reply_ms.append((sent_at - started) * 1000)
        await asyncio.sleep(0.02)  # let a multi-part answer finish arriving
        replies = fake.api.by_chat.get(user_id, [])[seen:]
        last_with_buttons = next((s for s in reversed(replies) if s.buttons()), last_with_buttons)
        await asyncio.sleep(rng.uniform(0, 0.05))


async def run_load(fake: FakeTelegram, people: int = 500, messages_each: int = 10, seed: int = 7) -> LoadResult:
    """Simulate ``people`` people at once, each sending ``messages_each`` messages or button presses."""
    rng = random.Random(seed)
    result = LoadResult(people=people, messages=people * messages_each)
    started = time.monotonic()
    arrivals = _Arrivals(fake)
    await asyncio.gather(*(_person(fake, arrivals, 100_000 + n, messages_each, random.Random(rng.random()), result)
                           for n in range(people)))
    result.seconds = time.monotonic() - started
    fake.api.on_record = None
    return result
