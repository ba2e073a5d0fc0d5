"""Two editors, one plan: exactly one save wins, on the real PostgreSQL (SECURITY.md CC-1, AL-2)."""

import threading

import pytest
from django.db import connection

from careplans import services
from careplans.models import CarePlan
from clinic.audit import audit_verify
from clinic.concurrency import StaleVersionError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(count, work):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(count)
    results: list[str] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
            results.append("saved")
        except StaleVersionError:
            results.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_ten_editors_from_the_same_version_one_wins(care_plan, prescriber):
    results = _race(
        10, lambda n: services.care_plan_update(care_plan=care_plan, actor=prescriber, version=1, summary=f"editor {n}")
    )
    assert sorted(results) == ["conflict"] * 9 + ["saved"]
    plan = CarePlan.objects.get(pk=care_plan.pk)
    assert plan.version == 2 and plan.summary.startswith("editor ")


def test_concurrent_writers_never_fork_the_audit_chain(care_plan, prescriber):
    goals = _race(
        12,
        lambda n: services.goal_create(
            care_plan=care_plan, actor=prescriber, domain="symptom", description=f"goal {n}"
        ),
    )
    assert goals == ["saved"] * 12
    assert audit_verify() == []
