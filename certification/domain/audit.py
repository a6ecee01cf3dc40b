"""Appending to, anchoring and verifying the keyed audit chains (the design is in certification/models/audit.py).

Threat: someone who can write the database (a stolen backup restored elsewhere, a DBA, an SQL injection) but does
not hold settings.AUDIT_KEYS and cannot write the anchor storage. Such a person cannot edit a row and recompute the
later hashes (HMAC), cannot cut rows off a chain below its last anchor (the anchor records its head), and cannot cut
anchors off (the anchor file outside the database records the latest one). What was written after the latest
anchor can be cut off undetected only together with the head rows, which is why anchors are taken daily and with
every export.
"""

import hashlib
import hmac
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certification.models import AuditAnchor, AuditChainHead, AuditEvent

from . import notify

GENESIS = "0" * 64
SITE_CHAIN = "site"
# The head row of the anchor chain: it serialises anchoring, never ordinary writes.
ANCHOR_CHAIN = "anchors"
ANCHOR_STORAGE = "audit_anchors"
ANCHOR_FILE_RE = re.compile(r"^anchor-(\d{10})\.json$")


class AuditTampered(Exception):
    """The database is behind what an anchor outside it recorded: refuse to seal that state as genuine."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class Problem:
    """One finding of `verify`: where (chain, and the row when there is one) and a message for people."""

    chain: str
    template: str
    params: dict = field(default_factory=dict)
    event: AuditEvent | None = None

    def __str__(self):
        return str(self.template) % {**self.params, "chain": chain_label(self.chain)}


def chain_label(chain):
    """A readable name of a chain: "application 12", "standard 3", "site-wide events", "anchors"."""
    if chain == SITE_CHAIN:
        return _("site-wide events")
    if chain == ANCHOR_CHAIN:
        return _("audit anchors")
    kind, _sep, pk = chain.rpartition(":")
    if kind == "application":
        return _("application no. %(id)s") % {"id": pk}
    try:
        name = apps.get_model(kind)._meta.verbose_name
    except (LookupError, ValueError):
        name = kind
    return f"{name} {pk}"


def chain_of(application=None, obj=None):
    """Each application has its own chain; other objects theirs; events about neither share the site chain."""
    if application is not None:
        return f"application:{application.pk}"
    if obj is not None:
        return f"{obj._meta.label_lower}:{obj.pk}"
    return SITE_CHAIN


def current_key():
    """(key id, secret) that new rows are sealed with: the first of settings.AUDIT_KEYS."""
    return next(iter(settings.AUDIT_KEYS.items()))


def seal(prev_hash, fields, key):
    """HMAC-SHA256 of the previous hash and the canonical JSON of `fields`, as hex."""
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hmac.new(key, (prev_hash + canonical).encode("utf-8"), hashlib.sha256).hexdigest()


def hashed_fields(event):
    """What an event's hash covers: its content and its place (chain, position, key)."""
    return {
        "chain": event.chain,
        "seq": event.seq,
        "key": event.key_id,
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


def anchor_fields(anchor):
    return {
        "seq": anchor.seq,
        "key": anchor.key_id,
        "at": anchor.at.isoformat(),
        "events": anchor.events,
        "heads": anchor.heads,
    }


def record(action, *, actor=None, application=None, obj=None, from_state="", to_state="", reason="", payload=None):
    """Append one event to its chain (the application's, else the object's, else the site's).

    Runs inside the caller's transaction (without a savepoint of its own: a failure here fails the step that
    records it). Only that chain's head row is locked, so transitions on different applications never wait for
    each other here.
    """
    chain = chain_of(application, obj)
    key_id, key = current_key()
    with transaction.atomic(savepoint=False):
        head, _created = AuditChainHead.objects.select_for_update().get_or_create(
            chain=chain, defaults={"last_hash": GENESIS}
        )
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
            chain=chain,
            seq=head.length + 1,
            key_id=key_id,
            prev_hash=head.last_hash,
        )
        event.hash = seal(event.prev_hash, hashed_fields(event), key)
        event.save()
        head.length = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["length", "last_hash"])
    return event


# Anchors ------------------------------------------------------------------------------------------------------


def anchor_storage():
    return storages[ANCHOR_STORAGE]


def anchor_file_name(seq):
    return f"anchor-{seq:010d}.json"


def anchor_summary(anchor):
    """What an anchor file and an export's metadata hold: enough to find the anchor again and check it."""
    return {
        "anchor": anchor.seq,
        "hash": anchor.hash,
        "events": anchor.events,
        "key_id": anchor.key_id,
        "at": anchor.at.isoformat(),
    }


def write_anchor_file(anchor):
    """Write the anchor's summary to the anchor storage (outside the database). Returns the stored name."""
    content = json.dumps(anchor_summary(anchor), sort_keys=True, indent=1).encode("utf-8")
    return anchor_storage().save(anchor_file_name(anchor.seq), ContentFile(content))


def latest_anchor_file():
    """The summary in the newest anchor file, or None when there is none yet."""
    storage = anchor_storage()
    try:
        _dirs, files = storage.listdir("")
    except FileNotFoundError:
        return None
    names = sorted(name for name in files if ANCHOR_FILE_RE.match(name))
    if not names:
        return None
    with storage.open(names[-1], "rb") as handle:
        return json.loads(handle.read().decode("utf-8"))


def _behind_anchor_file(summary):
    """Problems when the database holds less than the anchor file `summary` recorded (cheap: no hashing)."""
    if summary is None:
        return []
    problems = []
    stored = AuditAnchor.objects.filter(seq=summary["anchor"]).values_list("hash", flat=True).first()
    if stored is None:
        problems.append(
            Problem(
                ANCHOR_CHAIN,
                gettext_lazy("Anchor %(anchor)s recorded in the anchor file is missing from the database."),
                {"anchor": summary["anchor"]},
            )
        )
    elif stored != summary["hash"]:
        problems.append(
            Problem(
                ANCHOR_CHAIN,
                gettext_lazy("Anchor %(anchor)s in the database differs from the anchor file."),
                {"anchor": summary["anchor"]},
            )
        )
    count = AuditEvent.objects.count()
    if count < summary["events"]:
        problems.append(
            Problem(
                ANCHOR_CHAIN,
                gettext_lazy(
                    "The database holds %(count)s audit rows, fewer than the %(events)s the anchor file recorded."
                ),
                {"count": count, "events": summary["events"]},
            )
        )
    return problems


def anchor(*, now=None):
    """Seal every chain's current head into a new anchor and, after commit, write it to the anchor storage.

    Refuses with AuditTampered when the database holds less than the latest anchor file recorded: sealing that
    state would hide the truncation from the next verification. Side effects: an AuditAnchor row; the heads'
    `anchored_length`; after commit, an anchor file. Returns the anchor.
    """
    problems = _behind_anchor_file(latest_anchor_file())
    if problems:
        raise AuditTampered(problems)
    key_id, key = current_key()
    with transaction.atomic():
        lock, _created = AuditChainHead.objects.select_for_update().get_or_create(
            chain=ANCHOR_CHAIN, defaults={"last_hash": GENESIS}
        )
        heads = list(AuditChainHead.objects.exclude(chain=ANCHOR_CHAIN))
        grown = [head for head in heads if head.length > head.anchored_length]
        new = AuditAnchor(
            seq=lock.length + 1,
            at=now or timezone.now(),
            events=sum(head.length for head in heads),
            heads={head.chain: [head.length, head.last_hash] for head in grown},
            key_id=key_id,
            prev_hash=lock.last_hash,
        )
        new.hash = seal(new.prev_hash, anchor_fields(new), key)
        new.save()
        lock.length = new.seq
        lock.last_hash = new.hash
        lock.save(update_fields=["length", "last_hash"])
        # Only heads no writer holds now, and only this column: a head skipped or grown meanwhile simply appears in
        # the next anchor again, and anchoring never waits for (or deadlocks with) a transition.
        free = set(
            AuditChainHead.objects.select_for_update(skip_locked=True)
            .filter(pk__in=[head.pk for head in grown])
            .values_list("pk", flat=True)
        )
        for head in grown:
            head.anchored_length = head.length
        AuditChainHead.objects.bulk_update(
            [head for head in grown if head.pk in free], ["anchored_length"], batch_size=1000
        )
        transaction.on_commit(lambda: write_anchor_file(new))
    return new


# Verification -------------------------------------------------------------------------------------------------


def _check_row(row, *, chain, expected_seq, prev_hash, keys, fields):
    """The problem with one row of a chain (position, link, key, hash), or None."""
    if row.seq != expected_seq:
        return Problem(
            chain,
            gettext_lazy("In %(chain)s, row %(expected)s is missing (the next row is %(seq)s)."),
            {"expected": expected_seq, "seq": row.seq},
        )
    if row.prev_hash != prev_hash:
        return Problem(
            chain, gettext_lazy("In %(chain)s, row %(seq)s does not link to the row before it."), {"seq": row.seq}
        )
    key = keys.get(row.key_id)
    if key is None:
        return Problem(
            chain,
            gettext_lazy(
                "In %(chain)s, row %(seq)s is sealed with key %(key)s, which is not configured in AUDIT_KEYS."
            ),
            {"seq": row.seq, "key": row.key_id},
        )
    if not hmac.compare_digest(row.hash, seal(prev_hash, fields(row), key)):
        return Problem(
            chain, gettext_lazy("In %(chain)s, row %(seq)s was changed after it was written."), {"seq": row.seq}
        )
    return None


def _verify_anchors(keys, heads, problems):
    """Check the anchor chain; return {chain: (length, hash)} of each chain's latest anchored head."""
    checkpoints = {}
    head = heads.pop(ANCHOR_CHAIN, None)
    prev_hash, expected = GENESIS, 1
    for row in AuditAnchor.objects.order_by("seq").iterator(chunk_size=500):
        problem = _check_row(
            row, chain=ANCHOR_CHAIN, expected_seq=expected, prev_hash=prev_hash, keys=keys, fields=anchor_fields
        )
        if problem is not None:
            problems.append(problem)
            return checkpoints
        for chain, (length, last_hash) in row.heads.items():
            checkpoints[chain] = (length, last_hash)
        prev_hash, expected = row.hash, expected + 1
    if head is not None and (head.length, head.last_hash) != (expected - 1, prev_hash):
        problems.append(
            Problem(
                ANCHOR_CHAIN,
                gettext_lazy("%(chain)s end at %(seq)s, but their head row records %(length)s."),
                {"seq": expected - 1, "length": head.length},
            )
        )
    return checkpoints


def _end_of_chain(chain, last, heads, checkpoints, problems):
    """Compare a chain's last row (None for none) with its head row and its latest anchored head."""
    length = last.seq if last is not None else 0
    head = heads.pop(chain, None)
    if head is None:
        if last is not None:
            problems.append(Problem(chain, gettext_lazy("%(chain)s has rows but no head row."), {}, last))
    elif head.length != length or (last is not None and head.last_hash != last.hash):
        problems.append(
            Problem(
                chain,
                gettext_lazy("%(chain)s ends at row %(seq)s, but its head row records %(length)s rows."),
                {"seq": length, "length": head.length},
                last,
            )
        )
    anchored = checkpoints.pop(chain, None)
    if anchored is not None and anchored[0] > length:
        problems.append(
            Problem(
                chain,
                gettext_lazy(
                    "%(chain)s ends at row %(seq)s, but anchor records show %(length)s rows: rows were removed."
                ),
                {"seq": length, "length": anchored[0]},
                last,
            )
        )


def _finish(chain, last, broken, heads, checkpoints, problems):
    if chain is None:
        return
    if broken:  # already reported; its head and anchors would only repeat it
        heads.pop(chain, None)
        checkpoints.pop(chain, None)
    else:
        _end_of_chain(chain, last, heads, checkpoints, problems)


def verify():
    """Check every chain, the anchors and the latest anchor file; return the problems found ([] when intact).

    Reads only the database, settings.AUDIT_KEYS and the anchor storage, so it works the same on a restored backup.
    At most one problem per chain is reported: after the first broken row, every later row is suspect anyway.
    """
    # The file first: an anchor it names committed before the snapshot below starts.
    summary = latest_anchor_file()
    with _snapshot():
        return _verify(settings.AUDIT_KEYS, summary)


@contextmanager
def _snapshot():
    """One consistent view of heads, anchors and rows, so transitions committing meanwhile are not taken for tampering.

    (Inside a caller's transaction the caller's view is used as it is.)
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _verify(keys, summary):
    problems = []
    heads = {head.chain: head for head in AuditChainHead.objects.all()}
    checkpoints = _verify_anchors(keys, heads, problems)
    problems.extend(_behind_anchor_file(summary))

    chain, last, expected, prev_hash, broken = None, None, 1, GENESIS, False
    for event in AuditEvent.objects.order_by("chain", "seq").iterator(chunk_size=2000):
        if event.chain != chain:
            _finish(chain, last, broken, heads, checkpoints, problems)
            chain, last, expected, prev_hash, broken = event.chain, None, 1, GENESIS, False
        if broken:
            continue
        problem = _check_row(
            event, chain=chain, expected_seq=expected, prev_hash=prev_hash, keys=keys, fields=hashed_fields
        )
        anchored = checkpoints.get(chain)
        if problem is None and anchored is not None and anchored[0] == event.seq and anchored[1] != event.hash:
            problem = Problem(
                chain, gettext_lazy("In %(chain)s, row %(seq)s differs from its anchored hash."), {"seq": event.seq}
            )
        if problem is not None:
            problems.append(Problem(problem.chain, problem.template, problem.params, event))
            broken = True
            continue
        last, expected, prev_hash = event, expected + 1, event.hash
    _finish(chain, last, broken, heads, checkpoints, problems)
    for chain_left in sorted(set(heads) | set(checkpoints)):
        _end_of_chain(chain_left, None, heads, checkpoints, problems)
    return problems


def verify_chain():
    """The first event found wrong (for a removed tail: the chain's last remaining row), or None when all is intact."""
    problems = verify()
    for problem in problems:
        if problem.event is not None:
            return problem.event
    if problems:
        return AuditEvent.objects.order_by("-id").first()
    return None


def verify_and_anchor():
    """The daily check: verify everything; on failure alert the administrators, else seal a new anchor.

    A failed verification never anchors, so the next run still compares against the last good anchor.
    Side effects: on failure, a notification (and e-mail) to each administrator; on success, an anchor and its file.
    Returns the problems ([] when intact).
    """
    problems = verify()
    if not problems:
        try:
            anchor()
        except AuditTampered as refused:  # changed between the two reads: report it like any other finding
            problems = refused.problems
    if problems:
        alert_administrators(problems)
    return problems


def alert_administrators(problems):
    """Tell every administrator that the audit trail failed verification, listing the findings."""
    lines = [str(problem) for problem in problems[:50]]
    if len(problems) > 50:
        lines.append(_("… and %(count)s more.") % {"count": len(problems) - 50})
    body = "\n".join(
        [_("Verification of the audit trail found the following. Investigate before trusting it again."), *lines]
    )
    return notify.notify(notify.administrators(), _("The audit trail failed verification"), body)
