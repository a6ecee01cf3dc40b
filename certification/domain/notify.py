"""Telling the people a step concerns: an in-app notification (the bell) and an e-mail copy.

Callers pass subjects and bodies already translated (gettext at call time, in the language of the step);
the helpers below find the people from their active role grants and evaluator assignments.
"""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from certification.errors import NotAllowed
from certification.models import (
    Application,
    CorrectionRequest,
    EvaluatorAssignment,
    Notification,
    Role,
    RoleGrant,
    SentReminder,
    User,
)
from certification.scope import holders, holders_of, supervising_role

from . import queue

# How many days before a deadline the "deadline approaching" reminder goes out.
REMINDER_DAYS_BEFORE = 3


def notify(recipients, subject, body="", *, application=None, url=""):
    """Create one Notification per distinct active recipient and queue one e-mail to each who has an address.

    `recipients` is any iterable of users (None entries and inactive users are skipped, duplicates merged).
    With an application and no `url`, the notification links to the application's dossier page.
    Side effects: Notification rows; after commit, one `certification.send_notification_email` task per row
    whose recipient has an e-mail address. Returns the created notifications.
    """
    people = {}
    for user in recipients:
        if user is not None and user.is_active and user.pk not in people:
            people[user.pk] = user
    if not people:
        return []
    subject = str(subject)[: Notification._meta.get_field("subject").max_length]
    if not url and application is not None:
        url = application_url(application)
    # One INSERT for every recipient (bulk_create returns the ids on PostgreSQL and SQLite).
    created = Notification.objects.bulk_create(
        [
            Notification(recipient=user, application=application, subject=subject, body=str(body), url=url)
            for user in people.values()
        ]
    )
    for notification in created:
        if notification.recipient.email:
            queue.after_commit("certification.send_notification_email", notification_id=notification.pk)
    return created


def send_notification_email(notification):
    """Send the e-mail copy of `notification` once; a second call (a retried or duplicated task) sends nothing.

    The row is locked while sending, so two workers running at once still send one e-mail.
    Side effects: one e-mail; `emailed` set. Returns True when an e-mail went out.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update().select_related("recipient").filter(pk=notification.pk).first()
        )
        if notification is None or notification.emailed is not None or not notification.recipient.email:
            return False
        body = notification.body
        if notification.url:
            body = f"{body}\n\n{_absolute(notification.url)}".strip()
        send_mail(
            notification.subject,
            body,
            settings.DEFAULT_FROM_EMAIL,
            [notification.recipient.email],
        )
        notification.emailed = timezone.now()
        notification.save(update_fields=["emailed"])
    return True


def record_email_failure(notification_id, error, *, final):
    """An attempt to e-mail the notification failed: count it and keep the error for the administrator.

    `final` (the task has used its retries) marks the e-mail as given up; the admin lists those.
    Side effects: `email_attempts`, `email_error` and, when final, `email_failed` updated. Returns the rows updated.
    """
    error_field = Notification._meta.get_field("email_error")
    changes = {
        "email_attempts": F("email_attempts") + 1,
        "email_error": f"{type(error).__name__}: {error}"[: error_field.max_length],
    }
    if final:
        changes["email_failed"] = timezone.now()
    return Notification.objects.filter(pk=notification_id, emailed__isnull=True).update(**changes)


def _absolute(url):
    base = getattr(settings, "SITE_URL", "")
    return f"{base.rstrip('/')}{url}" if base and url.startswith("/") else url


def _holders(role, **scope):
    grants = RoleGrant.objects.active().filter(role=role, **scope)
    return list(User.objects.filter(is_active=True, role_grants__in=grants).distinct().order_by("pk"))


def leads_of(cluster):
    """The active leads of `cluster`."""
    return _holders(Role.LEAD, cluster=cluster)


def district_office_of(district):
    """The active district office staff of `district` (a Region of kind district)."""
    return _holders(Role.DISTRICT_OFFICE, region=district)


def district_leaders_of(district):
    return _holders(Role.DISTRICT_LEADER, region=district)


def city_office_of(city):
    """The active city office staff of `city` (a Region of kind city)."""
    return _holders(Role.CITY_OFFICE, region=city)


def city_leaders_of(city):
    return _holders(Role.CITY_LEADER, region=city)


def panel_of(application):
    """The evaluators currently on the application's panel (active assignments, active users)."""
    return list(
        User.objects.filter(
            is_active=True,
            assignments__application=application,
            assignments__status=EvaluatorAssignment.Status.ACTIVE,
        )
        .distinct()
        .order_by("pk")
    )


def application_url(application):
    """The application's detail page, for links in notifications ("" while the page is not registered)."""
    try:
        return reverse("work:application_detail", kwargs={"pk": application.pk})
    except NoReverseMatch:
        return ""


def send_deadline_reminders(*, today=None):
    """Remind leads of correction (补正) deadlines: once when one is near, once more when it has passed.

    Every reminder is recorded as a SentReminder with a unique key (request, kind, deadline), so running this
    twice, or in two workers at once, sends nothing new; moving a deadline gives a new reminder for the new date.
    Side effects: SentReminder rows; notifications (and e-mails) to the cluster's leads, and for an overdue
    request also to the district office. Returns the number of reminders sent.
    """
    today = today or timezone.localdate()
    corrections = (
        CorrectionRequest.objects.filter(
            resolved__isnull=True, deadline__lte=today + timedelta(days=REMINDER_DAYS_BEFORE)
        )
        .exclude(application__status__in=Application.CLOSED)
        .select_related("application__cluster__district")
        .order_by("deadline", "pk")
    )
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for correction in corrections:
            kind = SentReminder.Kind.OVERDUE if correction.deadline < today else SentReminder.Kind.DUE_SOON
            if _send_correction_reminder(correction, kind):
                sent += 1
    return sent


def _send_correction_reminder(correction, kind):
    application = correction.application
    cluster = application.cluster
    key = f"correction:{correction.pk}:{kind}:{correction.deadline.isoformat()}"
    values = {"cluster": cluster.name, "deadline": correction.deadline.isoformat()}
    if kind == SentReminder.Kind.OVERDUE:
        leads, office = holders_of([Role.LEAD, Role.DISTRICT_OFFICE], application)
        recipients = leads + office
        subject = _("Correction overdue: %(cluster)s, deadline %(deadline)s") % values
        body = (
            _(
                "The correction requested for %(cluster)s was due on %(deadline)s and has not been submitted. "
                "The lead should submit the returned indicators now; the district office may follow up."
            )
            % values
        )
    else:
        recipients = holders(Role.LEAD, application)
        subject = _("Correction due by %(deadline)s: %(cluster)s") % values
        body = (
            _(
                "The district office returned indicators of %(cluster)s for correction. "
                "Submit the corrected materials by %(deadline)s."
            )
            % values
        )
    return send_reminder_once(key, kind, application, correction.deadline, recipients, subject, body)


def send_reminder_once(key, kind, application, deadline, recipients, subject, body):
    """Record the reminder `key` and notify `recipients`, unless a reminder of that key went out before.

    The key is unique (SentReminder), so two runs, even concurrent ones, send it once. Returns True when sent.
    """
    try:
        with transaction.atomic():
            SentReminder.objects.create(key=key, kind=kind, application=application, deadline=deadline)
            notify(recipients, subject, body, application=application, url=application_url(application))
    except IntegrityError:
        # Already sent, by an earlier run or a concurrent one.
        return False
    return True


def task_reminder_key(task_id, kind, due):
    """The SentReminder key of a workflow task's notice: one per task, kind and due date."""
    return f"task:{task_id}:{kind}:{due.isoformat()}"


def deadline_message(kind, cluster_name, title, due, doers):
    """(subject, body) of a task-deadline notice of `kind` (SentReminder.Kind) for the step `title` of the cluster,
    due on `due`; an escalation names who holds the step (`doers`)."""
    values = {"cluster": cluster_name, "step": title, "due": due.isoformat()}
    if kind == SentReminder.Kind.ESCALATED:
        who = "、".join(str(person) for person in doers) if doers else _("nobody yet")
        subject = _("Escalated: %(step)s for %(cluster)s is overdue (due %(due)s)") % values
        body = _(
            "The step “%(step)s” of %(cluster)s was due on %(due)s and is still open (held by: %(who)s). "
            "Please follow it up."
        ) % {**values, "who": who}
    elif kind == SentReminder.Kind.OVERDUE:
        subject = _("Overdue: %(step)s for %(cluster)s (due %(due)s)") % values
        body = _("The step “%(step)s” of %(cluster)s was due on %(due)s. Please complete it now.") % values
    else:
        subject = _("Due by %(due)s: %(step)s for %(cluster)s") % values
        body = _("The step “%(step)s” of %(cluster)s is due on %(due)s.") % values
    return subject, body


def send_task_deadline_notice(application, *, task_id, kind, title, due, role, assignee=None):
    """One deadline notice of a workflow task (the engine finds the tasks; `workflows.deadlines`), sent once.

    DUE_SOON and OVERDUE go to the assignee, or to the holders of the task's `role` while nobody has taken it;
    ESCALATED goes to the holders of the supervising role (`certification.scope.supervising_role`). `title` is the
    step's name. Side effects: a SentReminder row; notifications and e-mails. Returns True when sent.
    """
    doers = [assignee] if assignee is not None else (holders(role, application) if role else [])
    if kind == SentReminder.Kind.ESCALATED:
        supervisor = supervising_role(role, application) if role else None
        recipients = holders(supervisor, application) if supervisor else []
    else:
        recipients = doers
    subject, body = deadline_message(kind, application.cluster.name, title, due, doers)
    key = task_reminder_key(task_id, kind, due)
    return send_reminder_once(key, kind, application, due, recipients, subject, body)


def mark_read(notification, *, by):
    """Mark one of `by`'s notifications read (idempotent). Someone else's notification is refused.

    Side effects: `read` set. Reading is not a transition of anything, so it writes no audit row.
    """
    if notification.recipient_id != by.pk:
        raise NotAllowed(_("This notification is addressed to someone else."))
    Notification.objects.filter(pk=notification.pk, read__isnull=True).update(read=timezone.now())


def mark_all_read(user):
    """Mark every unread notification of `user` read. Returns how many changed. No audit row (see mark_read)."""
    return Notification.objects.filter(recipient=user, read__isnull=True).update(read=timezone.now())


def administrators():
    """The active administrators (role grant) and superusers: who hears about faults of the system itself."""
    grants = RoleGrant.objects.active().filter(role=Role.ADMINISTRATOR)
    return list(
        User.objects.filter(Q(role_grants__in=grants) | Q(is_superuser=True), is_active=True).distinct().order_by("pk")
    )
