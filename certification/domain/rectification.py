"""整改 to closure: a list of items from a failed application, a yearly review or an upheld objection; the lead
answers each item, the office verifies or returns it; overdue items are reminded, then escalated to the leader,
once each and recorded; a list whose deadline passes with items open has lapsed (the review's downgrade path).
"""

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from certification import uploads
from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import Indicator, Objection, RectificationItem, RectificationList, Role, RoleGrant
from certification.models.tier import decided_by_city

from . import audit
from .notify import notify

# An overdue item is reminded on the first sweep after its deadline; a week later (seed 002 gives no figure; the
# offices asked for one working week of grace) it goes to the leader.
ESCALATE_AFTER = timedelta(days=7)

Status = RectificationItem.Status


def _tier_of(rectification):
    if rectification.yearly_review_id:
        return rectification.yearly_review.tier
    return rectification.application.target_tier


def office_role(rectification):
    return Role.CITY_OFFICE if decided_by_city(_tier_of(rectification)) else Role.DISTRICT_OFFICE


def leader_role(rectification):
    return Role.CITY_LEADER if decided_by_city(_tier_of(rectification)) else Role.DISTRICT_LEADER


def _holders(role, rectification):
    return list(RoleGrant.objects.holders(role, rectification))


def _holds(user, role, rectification):
    return bool(user and user.is_authenticated and user.is_active) and (
        RoleGrant.objects.covering(role, rectification).filter(user=user).exists()
    )


def _lock(item):
    return (
        RectificationItem.objects.select_for_update(of=("self",))
        .select_related(
            "rectification__cluster__district__parent", "rectification__yearly_review", "rectification__application"
        )
        .get(pk=item.pk)
    )


def _url(rectification):
    if rectification.yearly_review_id:
        return reverse("work:yearly_review_detail", args=[rectification.yearly_review_id])
    return reverse("work:application_detail", args=[rectification.application_id])


def _tell(people, subject, body, rectification):
    return notify(people, subject, body, application=rectification.application, url=_url(rectification))


def open_list(cluster, source, *, items, deadline=None, application=None, yearly_review=None, by=None):
    """Open a 整改 list of `items` (dicts: indicator or None, concerns, required_change, deadline).

    Side effects: the list and its items, an audit row, a notification to the cluster's lead.
    """
    if not items:
        raise InvalidInput(_("A rectification list needs at least one item."))
    with transaction.atomic():
        rectification = RectificationList.objects.create(
            cluster=cluster, source=source, application=application, yearly_review=yearly_review, deadline=deadline
        )
        RectificationItem.objects.bulk_create(
            [
                RectificationItem(
                    rectification=rectification,
                    indicator=item.get("indicator"),
                    concerns=item["concerns"][:300],
                    required_change=item["required_change"],
                    deadline=item.get("deadline"),
                )
                for item in items
            ]
        )
        audit.record(
            "rectification.opened",
            actor=by,
            application=application,
            obj=rectification,
            to_state=RectificationList.Status.OPEN,
            payload={"items": len(items), "deadline": deadline, "source": source},
        )
        _tell(
            RoleGrant.objects.holders(Role.LEAD, rectification),
            _("Rectification list: %(cluster)s") % {"cluster": cluster.name},
            _("%(count)s item(s) to put right; answer each with evidence.") % {"count": len(items)},
            rectification,
        )
    return rectification


def open_for_failed_application(application, items, *, by=None):
    """The 整改 list of a failed application, from `certificate.rectification_list`'s items: an upheld objection
    makes it a list from an objection. No deadline: the cluster answers before it applies again."""
    upheld = application.objections.filter(outcome=Objection.Outcome.UPHELD).exists()
    indicators = {
        indicator.code: indicator for indicator in Indicator.objects.filter(dimension__standard=application.standard_id)
    }
    rows = [
        {
            "indicator": indicators.get(item["code"]),
            "concerns": f"{item['code']} {item['title']}",
            "required_change": "；".join(reason for reason in item["reasons"] if reason) or item["title"],
            "deadline": None,
        }
        for item in items
    ]
    source = RectificationList.Source.OBJECTION if upheld else RectificationList.Source.APPLICATION
    return open_list(application.cluster, source, items=rows, application=application, by=by)


def answer_item(item, response, *, by, evidence=None):
    """The lead answers an open or returned item, with an optional evidence file (judged by content).

    Side effects: the item answered (the file kept), an audit row, a notification to the office.
    """
    response = (response or "").strip()
    if not response:
        raise InvalidInput(_("Say what was changed."))
    if evidence is not None:
        uploads.validate_upload(evidence, evidence.name, evidence.size)
    with transaction.atomic():
        item = _lock(item)
        rectification = item.rectification
        if not _holds(by, Role.LEAD, rectification):
            raise NotAllowed(_("Only the cluster's lead may answer a rectification item."))
        if rectification.status != RectificationList.Status.OPEN or item.status not in (Status.OPEN, Status.RETURNED):
            raise IllegalTransition(
                _("This item cannot be answered now: it is “%(status)s”.") % {"status": item.get_status_display()}
            )
        from_status = item.status
        fields = ["status", "response", "answered", "answered_by"]
        if evidence is not None:
            with uploads.keeping(evidence, "rectification") as kept:
                item.evidence_name = uploads.sanitise_filename(evidence.name)
                item.evidence_stored, item.evidence_sha256 = kept.name, kept.sha256
                fields += ["evidence_name", "evidence_stored", "evidence_sha256"]
        item.status, item.response, item.answered, item.answered_by = Status.ANSWERED, response, timezone.now(), by
        item.save(update_fields=fields)
        audit.record(
            "rectification.answered",
            actor=by,
            application=rectification.application,
            obj=item,
            from_state=from_status,
            to_state=item.status,
        )
        _tell(
            _holders(office_role(rectification), rectification),
            _("Rectification answered: %(cluster)s") % {"cluster": rectification.cluster.name},
            item.concerns,
            rectification,
        )
    return item


def _check_office(by, rectification):
    if not _holds(by, office_role(rectification), rectification):
        raise NotAllowed(_("Only the office responsible for this cluster may verify rectification items."))


def verify_item(item, *, by):
    """The office accepts an answered item; the last one closes the list.

    Side effects: the item verified, audit rows (and the list closed), a notification to the lead.
    """
    with transaction.atomic():
        item = _lock(item)
        rectification = item.rectification
        _check_office(by, rectification)
        if item.status != Status.ANSWERED:
            raise IllegalTransition(_("Only an answered item can be verified."))
        item.status, item.verified, item.verified_by = Status.VERIFIED, timezone.now(), by
        item.save(update_fields=["status", "verified", "verified_by"])
        audit.record(
            "rectification.verified",
            actor=by,
            application=rectification.application,
            obj=item,
            from_state=Status.ANSWERED,
            to_state=Status.VERIFIED,
        )
        if not rectification.items.exclude(status=Status.VERIFIED).exists():
            rectification.status, rectification.closed = RectificationList.Status.CLOSED, timezone.now()
            rectification.save(update_fields=["status", "closed"])
            audit.record(
                "rectification.closed",
                actor=by,
                application=rectification.application,
                obj=rectification,
                from_state=RectificationList.Status.OPEN,
                to_state=RectificationList.Status.CLOSED,
            )
        _tell(
            RoleGrant.objects.holders(Role.LEAD, rectification),
            _("Rectification verified: %(item)s") % {"item": item.concerns},
            "",
            rectification,
        )
    return item


def return_item(item, reason, *, by):
    """The office returns an answered item with a reason. Side effects: audit row, a notification to the lead."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the item is returned."))
    with transaction.atomic():
        item = _lock(item)
        rectification = item.rectification
        _check_office(by, rectification)
        if item.status != Status.ANSWERED:
            raise IllegalTransition(_("Only an answered item can be returned."))
        item.status, item.return_reason = Status.RETURNED, reason
        item.save(update_fields=["status", "return_reason"])
        audit.record(
            "rectification.returned",
            actor=by,
            application=rectification.application,
            obj=item,
            from_state=Status.ANSWERED,
            to_state=Status.RETURNED,
            reason=reason,
        )
        _tell(
            RoleGrant.objects.holders(Role.LEAD, rectification),
            _("Rectification returned: %(item)s") % {"item": item.concerns},
            reason,
            rectification,
        )
    return item


def sweep_overdue(today=None):
    """Remind, then escalate, every overdue open item: the reminder (lead and office) on the first sweep after the
    deadline, the escalation (leader) from ESCALATE_AFTER past it. Each once, recorded on the item and audited.

    Safe to run twice and from several workers (rows are claimed with SKIP LOCKED). Returns (reminded, escalated).
    """
    today = today or timezone.localdate()
    reminded = escalated = 0
    due = RectificationItem.objects.filter(
        rectification__status=RectificationList.Status.OPEN, deadline__lt=today, escalated__isnull=True
    ).exclude(status=Status.VERIFIED)
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            item = (
                RectificationItem.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("rectification__cluster__district__parent", "rectification__yearly_review")
                .filter(pk=pk, escalated__isnull=True)
                .first()
            )
            if item is None or item.status == Status.VERIFIED:
                continue
            rectification = item.rectification
            body = _("%(item)s: due %(deadline)s, not yet verified.") % {
                "item": item.concerns,
                "deadline": item.deadline.isoformat(),
            }
            if item.reminded is None:
                item.reminded = timezone.now()
                item.save(update_fields=["reminded"])
                audit.record("rectification.reminded", application=rectification.application, obj=item, reason=body)
                _tell(
                    [
                        *RoleGrant.objects.holders(Role.LEAD, rectification),
                        *_holders(office_role(rectification), rectification),
                    ],
                    _("Rectification overdue: %(cluster)s") % {"cluster": rectification.cluster.name},
                    body,
                    rectification,
                )
                reminded += 1
            elif today >= item.deadline + ESCALATE_AFTER:
                item.escalated = timezone.now()
                item.save(update_fields=["escalated"])
                audit.record("rectification.escalated", application=rectification.application, obj=item, reason=body)
                _tell(
                    _holders(leader_role(rectification), rectification),
                    _("Rectification overdue, escalated to you: %(cluster)s") % {"cluster": rectification.cluster.name},
                    body,
                    rectification,
                )
                escalated += 1
    return reminded, escalated


def lapse(rectification):
    """The list's deadline has passed with items open. Side effects: status lapsed, audit row. Returns open items."""
    with transaction.atomic():
        rectification = RectificationList.objects.select_for_update().get(pk=rectification.pk)
        if rectification.status != RectificationList.Status.OPEN:
            raise IllegalTransition(_("Only an open rectification list can lapse."))
        open_items = list(rectification.items.exclude(status=Status.VERIFIED))
        rectification.status = RectificationList.Status.LAPSED
        rectification.save(update_fields=["status"])
        audit.record(
            "rectification.lapsed",
            application=rectification.application,
            obj=rectification,
            from_state=RectificationList.Status.OPEN,
            to_state=RectificationList.Status.LAPSED,
            payload={"open_items": [item.concerns for item in open_items]},
        )
    return open_items
