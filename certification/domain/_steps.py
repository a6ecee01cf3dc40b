"""What every step of the process shares: the row lock, the state and permission checks, the move with its audit
row, and telling the people concerned. Internal to the step modules; who the people are comes from
`certification.scope`.
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from certification import scope
from certification.errors import IllegalTransition, NotAllowed
from certification.models import Application

from . import audit
from .locking import lock_application
from .notify import notify


def _lock(application):
    # A task's POST may already hold the row, read under lock when it began (see `locking`).
    return lock_application(application.pk)


def _require_status(application, *statuses):
    if application.status not in statuses:
        raise IllegalTransition(
            _("This step cannot be taken now: the application is “%(status)s”.")
            % {"status": application.get_status_display()}
        )


def _require_permission(user, codename, application, message):
    if user is None or not user.is_authenticated or not user.has_perm(scope.perm(codename), application):
        raise NotAllowed(message)


def _move(application, to_status, *, by, action, reason="", payload=None):
    """Change the application's status and write the audit row of the transition."""
    from_status = application.status
    application.status = to_status
    application.status_changed = timezone.now()
    fields = ["status", "status_changed"]
    if to_status in Application.CLOSED:
        application.closed = application.status_changed
        fields.append("closed")
    application.save(update_fields=fields)
    audit.record(
        action,
        actor=by,
        application=application,
        obj=application,
        from_state=from_status,
        to_state=to_status,
        reason=reason,
        payload=payload,
    )


def _office_codename(application):
    """The object permission of the office that runs evaluation and objections (see `scope.deciding_office_role`)."""
    return scope.deciding_office_permission(application)


def _tell(people, subject, body, *, application):
    """Queue a notification about `application` to `people`, linking to its dossier."""
    return notify(people, subject, body, application=application)


def _name(application):
    return f"{application.cluster.name}（{application.get_target_tier_display()}）"
