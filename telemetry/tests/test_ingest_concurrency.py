"""Concurrent overlapping batches never deadlock (PostgreSQL: rows are upserted in key order)."""

import random
import threading

import pytest
from django.db import connection

from telemetry.models import ImGroup, ImUser, UnregisteredServer
from telemetry.services import group_batch_commit, user_batch_commit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks and deadlocks need PostgreSQL"),
]

THREADS = 8


def run_concurrently(work) -> list[BaseException]:
    """``work(n)`` in THREADS threads released together; the exceptions they raised."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(n):
        try:
            barrier.wait()
            work(n)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def user(uuid, code, fmsgs):
    figures = dict.fromkeys(("onlinetime", "andtimes", "pctimes", "iostimes", "tmsgs"), 1)
    return {"code": code, "uuid": uuid, "nickname": f"用户{uuid}", "fmsgs": fmsgs, **figures}


def test_overlapping_user_batches_in_different_orders_never_deadlock(make_customer):
    make_customer(code="0513001")
    make_customer(code="0512002", name="苏州")

    def work(n):
        rng = random.Random(n)
        # Each thread: the shared users (both customers), some of its own, an unknown code; in its own order.
        records = [user(f"shared-{i}", code, n) for i in range(1_500) for code in ("0513001", "0512002")]
        records += [user(f"own-{n}-{i}", "0513001", n) for i in range(200)]
        records += [user(f"x-{i}", f"09000{i % 3}", n) for i in range(3)]
        rng.shuffle(records)
        for _round in range(3):
            result = user_batch_commit(records=records, sender_address="203.0.113.9")
            assert result.accepted == len(records) - 3

    assert run_concurrently(work) == []
    assert ImUser.objects.count() == 3_000 + THREADS * 200
    assert UnregisteredServer.objects.count() == 3
    # Counted per batch; a batch racing the very first sighting of a code may go uncounted.
    assert all(1 <= reports <= THREADS * 3 for reports in UnregisteredServer.objects.values_list("reports", flat=True))


def test_overlapping_group_batches_in_different_orders_never_deadlock(make_customer):
    make_customer(code="0513001")
    base = {"code": "0513001", "name": "群", "createrid": "1", "creatername": "x", "ctime": "2016-08-09"}
    figures = dict.fromkeys(("ucount", "msgcount", "fcount", "ncount"), 1)

    def work(n):
        records = [{**base, **figures, "gid": f"g-{i}"} for i in range(2_000)]
        random.Random(n).shuffle(records)
        for _round in range(3):
            group_batch_commit(records=records)

    assert run_concurrently(work) == []
    assert ImGroup.objects.count() == 2_000
