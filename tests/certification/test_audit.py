import pytest
from django.db import connection

from certification.domain import audit
from certification.models import AuditEvent


@pytest.fixture
def three_events(user):
    return [audit.record(f"test.step{n}", actor=user, from_state=f"s{n}", to_state=f"s{n + 1}") for n in range(3)]


def test_record_links_each_event_to_the_previous_hash(three_events):
    first, second, third = three_events

    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


def test_verify_chain_intact_returns_none(three_events):
    assert audit.verify_chain() is None


def test_verify_chain_edited_row_is_found(three_events):
    # Tampering bypasses the model (which refuses updates) the way someone with database access would.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET reason = %s WHERE id = %s", ["篡改", three_events[1].pk]
        )

    assert audit.verify_chain() == three_events[1]


def test_verify_chain_deleted_row_is_found(three_events):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [three_events[1].pk])

    assert audit.verify_chain() == three_events[2]


def test_verify_chain_deleted_last_row_is_found(three_events):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [three_events[2].pk])

    assert audit.verify_chain() == three_events[1]


def test_audit_event_update_and_delete_refused(three_events):
    event = three_events[0]
    event.reason = "changed"

    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""
