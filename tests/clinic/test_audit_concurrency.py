"""Lock-free audit append on the real PostgreSQL (issue 14: no clinic-wide lock on reads).

Requests insert audit rows without touching the chain head; the sealer chains them afterwards.
These tests run real concurrent transactions (threads, one connection each). The waits are
liveness guards (a blocked writer would hang there), never timing assertions.
"""

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from clinic.audit import audit_record
from clinic.audit_chain import audit_seal, chain_verify
from clinic.models import AuditChainHead, AuditEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
GUARD = 20  # seconds a thread may wait for the other before the test calls it blocked


def _in_thread(work):  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_concurrent_writers_and_a_running_sealer_end_with_one_intact_chain_in_order(care_plan, prescriber):
    writers, per_writer = 8, 25
    done = threading.Event()
    start = threading.Barrier(writers + 1)

    def write(n: int) -> None:
        start.wait()
        for i in range(per_writer):
            with transaction.atomic():
                audit_record(actor=prescriber, action="read", obj=care_plan, object_id=f"writer-{n}-{i:02d}")

    def seal_while_writing() -> None:
        start.wait()
        while not done.is_set():
            audit_seal(grace_seconds=0)

    threads = [_in_thread(lambda n=n: write(n)) for n in range(writers)]
    sealer, sealer_errors = _in_thread(seal_while_writing)
    for thread, _ in threads:
        thread.join(GUARD * 3)
    done.set()
    sealer.join(GUARD)
    assert [error for _, errors in threads for error in errors] == [] and sealer_errors == []

    audit_seal(grace_seconds=0)
    assert chain_verify() == []
    events = list(AuditEvent.objects.order_by("seq"))
    assert len(events) == writers * per_writer
    assert [event.seq for event in events] == list(range(1, writers * per_writer + 1))  # gapless, each once
    assert AuditChainHead.objects.get().last_seq == writers * per_writer
    for n in range(writers):  # each writer's events are chained in the order it wrote them
        mine = [event.object_id for event in events if event.object_id.startswith(f"writer-{n}-")]
        assert mine == sorted(mine) and len(mine) == per_writer


def test_two_transactions_append_at_once_while_one_is_still_open(care_plan, prescriber):
    a_appended, b_committed = threading.Event(), threading.Event()
    order: list[str] = []

    def slow_reader() -> None:
        with transaction.atomic():
            audit_record(actor=prescriber, action="read", obj=care_plan, object_id="A")
            a_appended.set()
            # Still open: with a locked chain head, B would wait here for A and never commit.
            b_committed.wait(GUARD)
            order.append("A commits")

    thread, errors = _in_thread(slow_reader)
    assert a_appended.wait(GUARD)
    with transaction.atomic():
        audit_record(actor=prescriber, action="read", obj=care_plan, object_id="B")
    order.append("B committed")
    b_committed.set()
    thread.join(GUARD)
    assert errors == []
    assert order == ["B committed", "A commits"]
    audit_seal(grace_seconds=0)
    assert chain_verify() == [] and AuditEvent.objects.filter(seq__isnull=False).count() == 2


def test_the_sealer_never_seals_past_a_row_in_flight_and_chains_it_when_it_commits(care_plan, prescriber):
    a_appended, sealed_once = threading.Event(), threading.Event()

    def in_flight() -> None:
        with transaction.atomic():
            audit_record(actor=prescriber, action="read", obj=care_plan, object_id="in-flight")
            a_appended.set()
            sealed_once.wait(GUARD)

    thread, errors = _in_thread(in_flight)
    assert a_appended.wait(GUARD)
    later = audit_record(actor=prescriber, action="read", obj=care_plan, object_id="committed")  # autocommit
    assert audit_seal(grace_seconds=0) == 1  # the open transaction's row is invisible: not skipped over, waited for
    sealed_once.set()
    thread.join(GUARD)
    assert errors == []
    assert audit_seal(grace_seconds=0) == 1
    early = AuditEvent.objects.get(object_id="in-flight")
    later.refresh_from_db()
    assert early.pk < later.pk and (later.seq, early.seq) == (1, 2)  # chained when it became visible
    assert chain_verify() == []


def test_a_rolled_back_append_leaves_an_id_gap_that_the_chain_does_not_mind(care_plan, prescriber):
    audit_record(actor=prescriber, action="read", obj=care_plan)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=prescriber, action="read", obj=care_plan)
        raise RuntimeError("the request failed")
    audit_record(actor=prescriber, action="read", obj=care_plan)
    audit_seal(grace_seconds=0)
    first, second = AuditEvent.objects.order_by("id")
    assert second.pk > first.pk + 1 and (first.seq, second.seq) == (1, 2)
    assert chain_verify() == []


def test_a_chart_open_and_an_api_read_never_touch_the_chain_head(client, api, prescriber, patient, care_plan):
    client.force_login(prescriber)
    with CaptureQueriesContext(connection) as page:
        assert client.get(f"/patients/{patient.public_id}/").status_code == 200
    with CaptureQueriesContext(connection) as detail:
        assert api(prescriber).get(f"/api/v1/care-plans/{care_plan.public_id}/").status_code == 200
    for captured in (page, detail):
        sql = [query["sql"] for query in captured.captured_queries]
        assert not any("clinic_auditchainhead" in q for q in sql)
        assert not any("FOR UPDATE" in q for q in sql if "clinic_audit" in q)
        assert sum(q.startswith('INSERT INTO "clinic_auditevent"') for q in sql) == 1
