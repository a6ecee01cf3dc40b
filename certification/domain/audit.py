"""Appending to and verifying the tamper-evident audit chain."""

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from certification.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


def _digest(prev_hash, fields):
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _hashed_fields(event):
    return {
        "at": event.at.isoformat(),
        "actor": event.actor_id,
        "action": event.action,
        "application": event.application_id,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "from": event.from_state,
        "to": event.to_state,
        "reason": event.reason,
        "payload": event.payload,
    }


def record(action, *, actor=None, application=None, obj=None, from_state="", to_state="", reason="", payload=None):
    """Append one event to the chain. Must run inside the caller's transaction; the chain head row is locked."""
    with transaction.atomic():
        head, _created = AuditChainHead.objects.select_for_update().get_or_create(pk=1, defaults={"last_hash": GENESIS})
        event = AuditEvent(
            at=timezone.now(),
            actor=actor,
            action=action,
            application=application,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            from_state=str(from_state or ""),
            to_state=str(to_state or ""),
            reason=reason or "",
            payload=json.loads(json.dumps(payload or {}, default=str)),
            prev_hash=head.last_hash,
        )
        event.hash = _digest(event.prev_hash, _hashed_fields(event))
        event.save()
        head.last_hash = event.hash
        head.save(update_fields=["last_hash"])
    return event


def verify_chain():
    """Return the first event whose hash or link does not match, or None when the whole chain is intact."""
    prev = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator():
        if event.prev_hash != prev or event.hash != _digest(prev, _hashed_fields(event)):
            return event
        prev = event.hash
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != prev:
        return AuditEvent.objects.order_by("-id").first()
    return None
