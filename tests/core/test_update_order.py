"""Each person's updates are handled in the order they were sent; different people's side by side."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.core.update_processor import PerPersonUpdateProcessor


def _update(update_id: int, user_id: int) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "A"}, "text": "hi"}}, None)


async def test_one_persons_updates_keep_their_order_while_others_run_alongside() -> None:
    processor = PerPersonUpdateProcessor(8)
    events: list[str] = []
    release_first = asyncio.Event()

    async def slow(name: str) -> None:
        events.append(f"start {name}")
        await release_first.wait()
        events.append(f"end {name}")

    async def quick(name: str) -> None:
        events.append(f"start {name}")
        events.append(f"end {name}")

    first = asyncio.create_task(processor.process_update(_update(1, 10), slow("a1")))
    second = asyncio.create_task(processor.process_update(_update(2, 10), quick("a2")))
    other = asyncio.create_task(processor.process_update(_update(3, 20), quick("b1")))
    await asyncio.wait_for(other, 2)
    assert events == ["start a1", "start b1", "end b1"]  # a2 waits for a1; b1 did not
    release_first.set()
    await asyncio.wait_for(asyncio.gather(first, second), 2)
    assert events[-3:] == ["end a1", "start a2", "end a2"]
    assert processor.people_tracked == 0
