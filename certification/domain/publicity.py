"""公示 and objections (异议)."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import (
    Application,
    Objection,
    Role,
)
from certification.scope import VIEW_APPLICATION, deciding_office, everyone, holders

from . import audit
from ._steps import (
    _lock,
    _move,
    _name,
    _office_codename,
    _require_permission,
    _require_status,
    _tell,
)
from .queries import objection_upheld, open_objections


def _start_publicity(application, *, by):
    _move(
        application,
        Application.Status.PUBLICITY,
        by=by,
        action="publicity.started",
        payload={"days": application.standard.publicity_days},
    )
    _tell(
        everyone(application),
        _("Publicity period: %(name)s") % {"name": _name(application)},
        _("The result is public for %(days)s days; objections may be raised meanwhile.")
        % {"days": application.standard.publicity_days},
        application=application,
    )


def raise_objection(application, text, *, by, objector=None):
    """Someone who can see the application raises an objection (异议) during 公示; it holds the certificate.

    From the public 公示 page anyone may object: `by` is None and `objector` (a `certification.domain.public.
    PublicObjector`) carries the name, contact and an optional attachment, checked as evidence is and stored
    before the application is locked. Side effects: an Objection, audit row, a notification to the responsible office.
    """
    text = (text or "").strip()
    public_fields = objector.store(application) if objector is not None else {}
    with transaction.atomic():
        application = _lock(application)
        if objector is None:
            _require_permission(by, VIEW_APPLICATION, application, _("You may not raise an objection here."))
        _require_status(application, Application.Status.PUBLICITY)
        if not text:
            raise InvalidInput(_("Write the objection."))
        objection = Objection.objects.create(application=application, raised_by=by, text=text, **public_fields)
        audit.record(
            "objection.raised",
            actor=by,
            application=application,
            obj=objection,
            to_state="open",
            reason=text,
            payload=objector.audit_payload(public_fields) if objector is not None else None,
        )
        _tell(
            deciding_office(application),
            _("Objection raised: %(name)s") % {"name": _name(application)},
            text,
            application=application,
        )
    return objection


def resolve_objection(objection, outcome, resolution, *, by):
    """The responsible office resolves one objection: upheld (the application will fail) or dismissed.

    Side effects: the objection's outcome, audit row, a notification to the person who raised it and the lead.
    """
    resolution = (resolution or "").strip()
    with transaction.atomic():
        application = _lock(objection.application)
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        _require_permission(
            by, _office_codename(application), application, _("Only the responsible office may resolve objections.")
        )
        _require_status(application, Application.Status.PUBLICITY)
        if objection.resolved is not None:
            raise IllegalTransition(_("This objection has already been resolved."))
        if outcome not in Objection.Outcome.values:
            raise InvalidInput(_("Choose whether the objection is upheld or dismissed."))
        if not resolution:
            raise InvalidInput(_("Explain the resolution."))
        objection.outcome = outcome
        objection.resolution = resolution
        objection.resolved = timezone.now()
        objection.resolved_by = by
        objection.save(update_fields=["outcome", "resolution", "resolved", "resolved_by"])
        audit.record(
            "objection.resolved",
            actor=by,
            application=application,
            obj=objection,
            from_state="open",
            to_state=outcome,
            reason=resolution,
        )
        _tell(
            [objection.raised_by, *holders(Role.LEAD, application)],
            _("Objection resolved: %(name)s") % {"name": _name(application)},
            f"{objection.get_outcome_display()}：{resolution}",
            application=application,
        )
    return objection


def end_publicity_now_for_demo(application, *, by, was_due, now):
    """DEMO MODE ONLY: the responsible office ends the application's 公示 now instead of waiting its days.

    The domain half: refused (NotAllowed) unless settings.DEMO_MODE is on and `by` acts for the deciding office of
    the application; refused (IllegalTransition) when the application is not in 公示. Side effects: an audit row
    ("demo.publicity_shortened") with when the timer was due (`was_due`) and `now`. The engine half (making the
    publicity timer due and firing it) is `workflows.engine.end_publicity_now_for_demo`, which calls this first.
    """
    if not settings.DEMO_MODE:
        raise NotAllowed(_("The publicity period can be shortened only on a demo installation (DEMO_MODE)."))
    with transaction.atomic():
        application = _lock(application)
        _require_permission(
            by,
            _office_codename(application),
            application,
            _("Only the office responsible for this application may end its publicity period early in the demo."),
        )
        _require_status(application, Application.Status.PUBLICITY)
        audit.record(
            "demo.publicity_shortened",
            actor=by,
            application=application,
            obj=application,
            reason=_("Demo shortcut: the publicity period was ended early so the demo need not wait its days."),
            payload={"was_due": was_due.isoformat() if was_due else None, "now": now.isoformat()},
        )
    return application


def finish_objections(application, *, by):
    """The office closes the objection handling after 公示: refused while any objection is still open.

    Side effects: audit row (the gate that follows certifies or fails).
    """
    with transaction.atomic():
        application = _lock(application)
        _require_permission(
            by, _office_codename(application), application, _("Only the responsible office may resolve objections.")
        )
        _require_status(application, Application.Status.PUBLICITY)
        remaining = open_objections(application).count()
        if remaining:
            raise IllegalTransition(
                _("%(count)s objection(s) are still open; resolve each one first.") % {"count": remaining}
            )
        audit.record(
            "objections.closed",
            actor=by,
            application=application,
            obj=application,
            from_state="objections:open",
            to_state="objections:upheld" if objection_upheld(application) else "objections:dismissed",
        )
    return application
