"""The certification process: viewflow's Process, one per Application, which it holds as its artifact."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.fields import TaskReferenceField
from viewflow.workflow.models import Process, Task

from certification.models import Application, YearlyReview

# A process's own state in words. Viewflow labels a running process "New" in the same message context as a task
# nobody has taken, which the catalogue must render as 待认领; a process in progress is 办理中.
PROCESS_STATES = {"NEW": _("In progress"), "DONE": _("Completed"), "CANCELED": _("Cancelled")}


def application_label(cluster_name, tier_label):
    """An application in words: "天平-湖南学区 紧密型申报"."""
    return _("%(cluster)s %(tier)s application") % {"cluster": cluster_name, "tier": tier_label}


class LabelledProcess:
    """What the task pages' side panel reads of a process: its state in words and the product's page for it."""

    @property
    def state_label(self):
        return PROCESS_STATES.get(self.status, self.get_status_display())

    @property
    def page_url(self):
        return None


class CertificationProcess(LabelledProcess, Process):
    """A proxy: the business data lives in certification models; the process only points at its application."""

    class Meta:
        proxy = True
        verbose_name = _("certification process")
        verbose_name_plural = _("certification processes")

    @property
    def application(self):
        return self.artifact

    @property
    def page_url(self):
        """The application's dossier (申报详情)."""
        if self.artifact_object_id is None:
            return None
        return reverse("work:application_detail", args=[self.artifact_object_id])

    @property
    def label(self):
        """The process in words, where viewflow would show its number: "天平-湖南学区 紧密型申报"."""
        application = self.artifact
        if application is None:
            return str(self.flow_class.process_title)
        return application_label(application.cluster.name, application.get_target_tier_display())


class WorkApplication(Application):
    """An application seen from the work pages (`work.WorkQuerySet`); a queue joins it to its tasks' queue entries
    (`queues.with_open_tasks`), the user's open tasks and their applications in one statement.

    A proxy: no table.
    """

    class Meta:
        proxy = True
        verbose_name = _("application")
        verbose_name_plural = _("applications")


def process_for(application):
    """The certification process of `application`, or None (applications opened outside the workflow)."""
    content_type = ContentType.objects.get_for_model(Application)
    return (
        CertificationProcess.objects.filter(artifact_content_type=content_type, artifact_object_id=application.pk)
        .order_by("-pk")
        .first()
    )


class YearlyReviewProcess(LabelledProcess, Process):
    """The yearly review process: a proxy pointing at its YearlyReview (certification.models.yearly_review)."""

    class Meta:
        proxy = True
        verbose_name = _("yearly review process")
        verbose_name_plural = _("yearly review processes")

    @property
    def review(self):
        return self.artifact

    @property
    def page_url(self):
        """The yearly review's page."""
        if self.artifact_object_id is None:
            return None
        return reverse("work:yearly_review_detail", args=[self.artifact_object_id])

    @property
    def label(self):
        """The process in words, where viewflow would show its number: "天平-湖南学区 2025 学年年度评估"."""
        review = self.artifact
        if review is None:
            return str(self.flow_class.process_title)
        return _("%(cluster)s yearly review of %(year)s") % {"cluster": review.cluster.name, "year": review.school_year}


def review_process_for(review):
    """The process of a yearly review, or None."""
    content_type = ContentType.objects.get_for_model(YearlyReview)
    return (
        YearlyReviewProcess.objects.filter(artifact_content_type=content_type, artifact_object_id=review.pk)
        .order_by("-pk")
        .first()
    )


class DueSource(models.TextChoices):
    """Where a task's period came from: the application's (or review's) standard, or the system settings."""

    STANDARD = "standard", _("the standard")
    SETTINGS = "settings", _("the system settings")


class TaskDeadline(models.Model):
    """When a human task of the flow is due: set once when the task is created (`workflows.deadlines`).

    Viewflow's Task has no due date, so this row sits beside it, keyed on the task; a task handed to someone else
    (转办, 委派, cover) keeps its row and so its due date. Queues join it to show, sort and filter by the due date.
    """

    task = models.OneToOneField(
        Task, verbose_name=_("task"), primary_key=True, on_delete=models.CASCADE, related_name="deadline"
    )
    due = models.DateField(_("due"), db_index=True)
    # The period it was computed from; None when the task follows a date set elsewhere (the 补正 request's).
    working_days = models.PositiveSmallIntegerField(_("working days"), null=True, blank=True)
    # Who gave that period: the pinned standard names the step, or it does not and the settings do. Rows written
    # before standards carried periods all came from the settings.
    source = models.CharField(_("period set by"), max_length=10, choices=DueSource.choices, default=DueSource.SETTINGS)

    class Meta:
        verbose_name = _("task deadline")
        verbose_name_plural = _("task deadlines")

    def __str__(self):
        return f"{self.task_id}: {self.due:%Y-%m-%d}"


class QueueEntry(models.Model):
    """One open human task of the certification flow as the queues read it: a copy of the task's fields the work
    lists filter and sort by, beside the application it is on and its due date (`workflows.queue_entries`).

    The work lists group the user's open tasks by application and sort them by when each waits since. Read from
    viewflow's tables this joins every task in scope to its process, then to the application (a generic relation:
    the planner cannot estimate it, and chose nested loops over the 5,000 tasks of a district leader); this row
    holds the application's id, so a queue joins its applications directly. The database writes it on every change
    of its task or due date (triggers, `queue_entries`), never Python; `check_queue_entries` compares it with the
    tasks.
    """

    task = models.OneToOneField(
        Task, verbose_name=_("task"), primary_key=True, on_delete=models.CASCADE, related_name="queue_entry"
    )
    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.CASCADE, related_name="queue_entries"
    )
    flow_task = TaskReferenceField(_("step"))
    status = models.CharField(_("status"), max_length=50)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("holder"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The permission a person needs to take the task, as viewflow names it, and on which application: NULL as in
    # viewflow's task (a task with no permission is anyone's), so `queues.may_take` reads both tables alike.
    owner_permission = models.CharField(_("permission"), max_length=255, null=True, blank=True)  # noqa: DJ001
    owner_permission_obj_pk = models.CharField(  # noqa: DJ001
        _("permission object"), max_length=255, null=True, blank=True
    )
    created = models.DateTimeField(_("created"))
    due = models.DateField(_("due"), null=True, blank=True)

    class Meta:
        verbose_name = _("queue entry")
        verbose_name_plural = _("queue entries")
        indexes = [models.Index(fields=["flow_task", "created"], name="queue_entry_step_created")]

    def __str__(self):
        return f"{self.task_id}: {self.flow_task}"
