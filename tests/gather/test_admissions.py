"""--limit's admissions (mlimages/gather/admissions.py): per label, one waiter woken per release."""

import asyncio
from collections import Counter

from mlimages.gather.admissions import Admissions


def test_a_label_never_passes_its_limit_and_each_release_wakes_one_waiter():
    # 600 tasks hold items of one label (an ImageNet list is grouped by label), limit 100,
    # four requests in five fail, each takes its own time: exactly 100 are kept, the others
    # skipped, and the waiters' condition is checked O(tasks) times (~3,400), not at every
    # release by every waiter (all woken each time: ~128,000 checks).
    kept, checks, skipped = Counter(), Counter(), []

    def count(label):
        checks[label] += 1
        return kept[label]

    async def task(admissions, i):
        if not await admissions.acquire("cat"):
            skipped.append(i)
            return
        try:
            assert kept["cat"] + admissions.inflight["cat"] <= 100
            for _ in range(i % 50):  # the request's time
                await asyncio.sleep(0)
            if i % 5 == 0:
                kept["cat"] += 1
        finally:
            await admissions.release("cat")

    async def run():
        admissions = Admissions(100, 1, count)
        await asyncio.gather(*(task(admissions, i) for i in range(600)))
        return admissions

    admissions = asyncio.run(run())
    assert kept["cat"] == 100 and skipped and admissions.inflight["cat"] == 0
    assert checks["cat"] < 10 * 600


def test_no_limit_admits_everything_at_once():
    async def run():
        admissions = Admissions(None, 1, lambda label: 0)
        return [await admissions.acquire("x") for _ in range(5)]
    assert asyncio.run(run()) == [True] * 5
