"""Running an export's batch queries several at a time, and handing their results on in order."""

import asyncio
from typing import AsyncIterator, Awaitable, TypeVar

Result = TypeVar("Result")


async def in_order(jobs: AsyncIterator[Awaitable[Result]], most: int) -> AsyncIterator[Result]:
    """The results of `jobs` (awaitables, not yet started) in the jobs' order, with at most
    `most` of them under way at once, the one whose result the consumer holds included: with
    `most=1` each job starts only when the consumer asks for its result, as a plain loop would.

    A job's error is raised in its place in the order, after the results before it. When the
    consumer stops early (or an error is raised), the jobs under way are cancelled, and this
    returns only once they have ended, so that no work outlives the export.
    """
    running = []
    try:
        async for job in jobs:
            running.append(asyncio.ensure_future(job))
            if len(running) < most:
                continue
            yield await running.pop(0)
        while running:
            yield await running.pop(0)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if hasattr(jobs, "aclose"):
            await jobs.aclose()
