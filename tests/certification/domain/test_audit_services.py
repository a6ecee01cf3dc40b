"""The audit trail on PostgreSQL: append-only triggers (also on published standards) and chains that do not serialise."""

import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction

from certification.domain import audit
from certification.models import (
    AuditAnchor,
    AuditEvent,
    Dimension,
    EvidenceRequirement,
    Indicator,
    Standard,
)
from tests.factories import StandardFactory
from tests.factories.work import ApplicationFactory

pytestmark = pytest.mark.services


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL triggers and row locks (CI's second pass)")


def refused(sql, params):
    """Run raw SQL as any database client could; return the database's refusal message, or None if it ran."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except IntegrityError as error:
        return str(error).splitlines()[0]
    return None


@pytest.mark.django_db
def test_audit_rows_refuse_update_and_delete_in_the_database(user):
    event = audit.record("test.step", actor=user)
    anchor = audit.anchor()

    assert refused("UPDATE certification_auditevent SET reason = 'x' WHERE id = %s", [event.pk]) == (
        "UPDATE of a row of certification_auditevent refused: the table is append-only"
    )
    assert refused("DELETE FROM certification_auditevent WHERE id = %s", [event.pk]) == (
        "DELETE of a row of certification_auditevent refused: the table is append-only"
    )
    assert refused("UPDATE certification_auditanchor SET events = 0 WHERE id = %s", [anchor.pk]) == (
        "UPDATE of a row of certification_auditanchor refused: the table is append-only"
    )
    assert refused("DELETE FROM certification_auditanchor WHERE id = %s", [anchor.pk]) == (
        "DELETE of a row of certification_auditanchor refused: the table is append-only"
    )
    assert AuditEvent.objects.get().reason == ""
    assert AuditAnchor.objects.count() == 1
    assert audit.verify() == []


@pytest.mark.django_db
def test_standard_trigger_refuses_new_due_periods_on_a_published_standard():
    standard = StandardFactory()
    Standard.objects.filter(pk=standard.pk).update(status=Standard.Status.PUBLISHED)

    sql = "UPDATE certification_standard SET due_working_days = %s::jsonb WHERE id = %s"

    assert refused(sql, ['{"formal_review": 7}', standard.pk]) == (
        "a published standard cannot be changed; make a new version instead"
    )
    assert Standard.objects.get(pk=standard.pk).due_working_days == {}


@pytest.mark.django_db
def test_standard_triggers_refuse_changes_under_a_published_standard():
    standard = StandardFactory()
    dimension = Dimension.objects.create(standard=standard, code="A", title="维度", order=1)
    indicator = Indicator.objects.create(dimension=dimension, code="A1", title="指标", max_score=10, method="scored")
    requirement = EvidenceRequirement.objects.create(indicator=indicator, stage="basic", code="A1-1", title="章程")
    Standard.objects.filter(pk=standard.pk).update(status=Standard.Status.PUBLISHED)
    message = "a published standard cannot be changed; make a new version instead"

    assert refused("UPDATE certification_standard SET title = 'x' WHERE id = %s", [standard.pk]) == message
    assert refused("DELETE FROM certification_standard WHERE id = %s", [standard.pk]) == message
    assert refused("UPDATE certification_dimension SET title = 'x' WHERE id = %s", [dimension.pk]) == message
    assert refused("DELETE FROM certification_dimension WHERE id = %s", [dimension.pk]) == message
    assert refused("UPDATE certification_indicator SET max_score = 99 WHERE id = %s", [indicator.pk]) == message
    assert refused("DELETE FROM certification_indicator WHERE id = %s", [indicator.pk]) == message
    assert refused("UPDATE certification_evidencerequirement SET required = false WHERE id = %s", [requirement.pk]) == (
        message
    )
    assert refused("DELETE FROM certification_evidencerequirement WHERE id = %s", [requirement.pk]) == message
    # Retiring (the status alone) stays possible; retiring while changing anything else does not.
    assert (
        refused("UPDATE certification_standard SET status = 'retired', title = 'x' WHERE id = %s", [standard.pk])
        == message
    )
    assert refused("UPDATE certification_standard SET status = 'retired' WHERE id = %s", [standard.pk]) is None
    assert refused("UPDATE certification_standard SET status = 'draft' WHERE id = %s", [standard.pk]) == (
        "a retired standard cannot be changed; make a new version instead"
    )
    standard.refresh_from_db()
    indicator.refresh_from_db()
    assert (standard.status, standard.title, indicator.max_score) == ("retired", "测试评估标准", 10)


@pytest.mark.django_db
def test_standard_triggers_leave_a_draft_editable():
    draft = StandardFactory()
    dimension = Dimension.objects.create(standard=draft, code="A", title="维度", order=1)

    assert refused("UPDATE certification_dimension SET title = 'x' WHERE id = %s", [dimension.pk]) is None
    assert refused("UPDATE certification_standard SET title = 'x' WHERE id = %s", [draft.pk]) is None
    draft.delete()
    assert not Standard.objects.filter(pk=draft.pk).exists()


HOLD = 0.3
WRITERS = 8


def _parallel_records(applications):
    """Each writer appends to its application's chain and keeps its transaction open HOLD seconds, as a transition
    does while it works; returns the wall time for all of them."""
    barrier = threading.Barrier(len(applications))
    errors = []

    def write(application):
        try:
            barrier.wait()
            with transaction.atomic():
                audit.record("test.parallel", application=application)
                time.sleep(HOLD)
        except Exception as error:  # collected and asserted below: a thread's exception would otherwise vanish
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(application,)) for application in applications]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return time.perf_counter() - started


@pytest.mark.django_db(transaction=True)
def test_audit_records_on_different_applications_do_not_wait_for_each_other():
    different = [ApplicationFactory() for _n in range(WRITERS)]
    same = [different[0]] * WRITERS

    parallel = _parallel_records(different)
    serial = _parallel_records(same)

    print(f"{WRITERS} writers holding {HOLD}s: different applications {parallel:.2f}s, one application {serial:.2f}s")
    # One chain (what the single global head row imposed on everyone) serialises: at least WRITERS × HOLD.
    assert serial >= WRITERS * HOLD
    # Separate chains overlap: far less than that, with room for a loaded two-core machine.
    assert parallel < WRITERS * HOLD / 2
    assert AuditEvent.objects.count() == 2 * WRITERS
    assert audit.verify() == []


@pytest.mark.django_db(transaction=True)
def test_anchor_does_not_wait_for_a_transition_holding_its_chain():
    application = ApplicationFactory()
    audit.record("test.committed", application=application)
    chain = f"application:{application.pk}"
    recorded, release = threading.Event(), threading.Event()
    errors = []

    def transition():
        try:
            with transaction.atomic():
                audit.record("test.in_flight", application=application)
                recorded.set()
                release.wait(timeout=30)
        except Exception as error:  # collected and asserted below: a thread's exception would otherwise vanish
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=transition)
    thread.start()
    assert recorded.wait(timeout=30)
    started = time.perf_counter()
    first = audit.anchor()
    waited = time.perf_counter() - started
    release.set()
    thread.join()
    second = audit.anchor()

    assert errors == []
    assert waited < 5  # the transition holds its head for up to 30 s: anchoring skipped it instead of waiting
    assert first.heads[chain][0] == 1
    assert second.heads[chain][0] == 2
    assert audit.verify() == []
