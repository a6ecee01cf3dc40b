"""What someone with write access to the database (but not AUDIT_KEYS or the anchor storage) can do to the trail."""

from contextlib import contextmanager

from django.db import connection

from certification.domain import audit
from certification.models import AuditAnchor, AuditChainHead, AuditEvent

EVENTS = AuditEvent._meta.db_table
ANCHORS = AuditAnchor._meta.db_table
HEADS = AuditChainHead._meta.db_table


@contextmanager
def as_database_owner():
    """A cursor that bypasses the append-only triggers on PostgreSQL, as a superuser or table owner could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


def rechain(chain, *, key, edit=None):
    """Rewrite every row of `chain` with `edit(event)` applied and every hash recomputed under `key`, head included."""
    prev = audit.GENESIS
    with as_database_owner() as cursor:
        for event in AuditEvent.objects.filter(chain=chain).order_by("seq"):
            if edit is not None:
                edit(event)
            event.prev_hash = prev
            event.hash = audit.seal(prev, audit.hashed_fields(event), key)
            cursor.execute(
                f"UPDATE {EVENTS} SET reason = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [event.reason, event.prev_hash, event.hash, event.pk],
            )
            prev = event.hash
        cursor.execute(f"UPDATE {HEADS} SET last_hash = %s WHERE chain = %s", [prev, chain])


def cut_tail(chain, *, keep):
    """Delete the rows of `chain` after position `keep` and set its head to match, so nothing local looks wrong."""
    with as_database_owner() as cursor:
        cursor.execute(f"DELETE FROM {EVENTS} WHERE chain = %s AND seq > %s", [chain, keep])
        last = AuditEvent.objects.filter(chain=chain, seq=keep).values_list("hash", flat=True).first()
        cursor.execute(
            f"UPDATE {HEADS} SET length = %s, last_hash = %s WHERE chain = %s", [keep, last or audit.GENESIS, chain]
        )


def cut_anchors(*, keep):
    """Delete the anchors after number `keep` and set the anchor chain's head to match."""
    with as_database_owner() as cursor:
        cursor.execute(f"DELETE FROM {ANCHORS} WHERE seq > %s", [keep])
        last = AuditAnchor.objects.filter(seq=keep).values_list("hash", flat=True).first()
        cursor.execute(
            f"UPDATE {HEADS} SET length = %s, last_hash = %s WHERE chain = %s",
            [keep, last or audit.GENESIS, audit.ANCHOR_CHAIN],
        )
