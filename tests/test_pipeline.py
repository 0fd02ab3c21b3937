"""The export pipeline on its own: jobs run several at a time, their results come in order,
and an export that stops leaves no job under way."""

import asyncio
import random

import pytest

from datasette_seller_export.engine.pipeline import in_order


class Jobs:
    """Jobs that sleep for given times and return their number, recording what ran."""

    def __init__(self, delays, fail_at=None):
        self.delays = delays
        self.fail_at = fail_at
        self.under_way = 0
        self.most_under_way = 0
        self.started, self.finished, self.cancelled = [], [], []

    async def job(self, number):
        self.started.append(number)
        self.under_way += 1
        self.most_under_way = max(self.most_under_way, self.under_way)
        try:
            await asyncio.sleep(self.delays[number])
            if number == self.fail_at:
                raise ValueError(f"job {number} failed")
            self.finished.append(number)
            return number
        except asyncio.CancelledError:
            self.cancelled.append(number)
            await asyncio.sleep(0.01)  # a query takes a moment to stop
            raise
        finally:
            self.under_way -= 1

    async def __aiter__(self):
        for number in range(len(self.delays)):
            yield self.job(number)


@pytest.mark.asyncio
@pytest.mark.parametrize("most", [1, 2, 3, 4, 8])
async def test_results_come_in_order_whichever_job_ends_first(most):
    delays = [random.Random(most * 100 + n).uniform(0, 0.01) for n in range(30)]
    jobs = Jobs(delays)
    assert [result async for result in in_order(jobs, most)] == list(range(30))
    assert jobs.most_under_way == min(most, 30)


@pytest.mark.asyncio
async def test_one_at_a_time_starts_each_job_only_when_its_result_is_asked_for():
    jobs = Jobs([0.001] * 5)
    results = in_order(jobs, 1)
    assert await results.__anext__() == 0
    await asyncio.sleep(0.02)
    assert jobs.started == [0]  # nothing read ahead
    assert [result async for result in results] == [1, 2, 3, 4]


@pytest.mark.asyncio
async def test_the_result_the_consumer_holds_counts_as_under_way():
    jobs = Jobs([0.001] * 10)
    results = in_order(jobs, 3)
    await results.__anext__()
    await asyncio.sleep(0.02)  # the consumer is slow: no more than 2 others run meanwhile
    assert jobs.started == [0, 1, 2]
    await results.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize("most", [1, 2, 4])
async def test_an_error_comes_after_the_results_before_it_and_cancels_the_rest(most):
    # Job 3 fails first in time, but jobs 0-2 still come out before its error.
    delays = [0.03, 0.02, 0.02, 0.0, 0.05, 0.05, 0.05]
    jobs = Jobs(delays, fail_at=3)
    results = []
    with pytest.raises(ValueError, match="job 3 failed"):
        async for result in in_order(jobs, most):
            results.append(result)
    assert results == [0, 1, 2]
    assert jobs.under_way == 0
    assert not set(jobs.finished) & {4, 5, 6}
    assert max(jobs.started) <= 3 + most - 1


@pytest.mark.asyncio
@pytest.mark.parametrize("most", [2, 4])
async def test_stopping_early_cancels_the_jobs_under_way_and_waits_for_them(most):
    jobs = Jobs([0.005] + [1.0] * 20)
    results = in_order(jobs, most)
    assert await results.__anext__() == 0
    await results.aclose()
    assert jobs.under_way == 0  # aclose returned only once every job had ended
    assert sorted(jobs.cancelled) == list(range(1, most))
    assert len(jobs.started) == most
