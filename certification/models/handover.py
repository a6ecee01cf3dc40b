"""Work passed between people: 转办 (transfer), 委派 (delegate and return), 加签 (co-signature) and out-of-office cover.

Rows are written only by `certification.domain.handover` and `certification.domain.cover`; each change also writes an
audit row. A handover names the viewflow task by id only (the domain app never imports the workflow app).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AbsenceQuerySet(models.QuerySet):
    def current(self, when=None):
        """Absences in force at `when` (now by default): started, not ended, not cancelled."""
        return self.on(timezone.localdate(when) if when is not None else timezone.localdate())

    def on(self, day):
        """Absences in force on the date `day`."""
        return self.filter(cancelled__isnull=True, starts__lte=day, ends__gte=day)


class Absence(models.Model):
    """A person away from `starts` to `ends` (both included); `substitute` holds the same roles in the same scopes."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("absent person"), on_delete=models.CASCADE, related_name="absences"
    )
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("substitute"), on_delete=models.PROTECT, related_name="covers"
    )
    starts = models.DateField(_("first day away"))
    ends = models.DateField(_("last day away"))
    reason = models.CharField(_("reason"), max_length=200)
    created = models.DateTimeField(_("recorded"), auto_now_add=True)
    cancelled = models.DateTimeField(_("cancelled"), null=True, blank=True)

    objects = AbsenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-starts", "-pk"]
        indexes = [models.Index(fields=["user", "starts", "ends"], name="absence_user_period")]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gte=models.F("starts")), name="absence_ends_after_start"),
            models.CheckConstraint(condition=~Q(substitute=models.F("user")), name="absence_substitute_not_self"),
        ]

    def __str__(self):
        return f"{self.user} {self.starts}–{self.ends}"


class TaskHandover(models.Model):
    """One task passed from one person to another: for good (transfer, cover) or to be returned (delegation)."""

    class Kind(models.TextChoices):
        TRANSFER = "transfer", _("Transferred")
        DELEGATION = "delegation", _("Delegated")
        COVER = "cover", _("Covered during an absence")

    class Status(models.TextChoices):
        OPEN = "open", _("With the delegate")
        RETURNED = "returned", _("Returned to the holder")
        DONE = "done", _("Handed over")

    application = models.ForeignKey(
        "certification.Application", verbose_name=_("application"), on_delete=models.CASCADE, related_name="handovers"
    )
    task_id = models.PositiveBigIntegerField(_("task"), db_index=True)
    task_title = models.CharField(_("task"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DONE)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    absence = models.ForeignKey(
        Absence, verbose_name=_("absence"), on_delete=models.PROTECT, null=True, blank=True, related_name="handovers"
    )
    created = models.DateTimeField(_("time"), auto_now_add=True)
    returned = models.DateTimeField(_("returned"), null=True, blank=True)
    return_note = models.TextField(_("the delegate's note"), blank=True)
    # The delegate's filled-in form (field name → list of values), shown pre-filled to the holder on return.
    draft = models.JSONField(_("draft"), default=dict, blank=True)

    class Meta:
        verbose_name = _("task handover")
        verbose_name_plural = _("task handovers")
        ordering = ["created", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["task_id"],
                condition=Q(kind="delegation", status="open"),
                name="handover_one_open_delegation_per_task",
            )
        ]

    def __str__(self):
        return f"{self.task_title}: {self.from_user} → {self.to_user}"


class CoSignature(models.Model):
    """加签: an approver asks a colleague of the same role to sign too; the approval waits for every open one."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the co-signer")
        AGREED = "agreed", _("Agreed")
        DECLINED = "declined", _("Declined")

    application = models.ForeignKey(
        "certification.Application",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="cosignatures",
    )
    step = models.CharField(_("approval step"), max_length=20)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.PROTECT, related_name="+"
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("co-signer"), on_delete=models.PROTECT, related_name="cosignatures"
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    comment = models.TextField(_("co-signer's opinion"), blank=True)
    created = models.DateTimeField(_("asked"), auto_now_add=True)
    signed = models.DateTimeField(_("signed"), null=True, blank=True)
    # Set when the step's decision is taken: a closed co-signature no longer holds a later round of the same step.
    closed = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("co-signature")
        verbose_name_plural = _("co-signatures")
        ordering = ["created", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "step", "signer"],
                condition=Q(closed__isnull=True),
                name="cosignature_one_open_per_signer",
            )
        ]

    def __str__(self):
        return f"{self.application_id} {self.step}: {self.signer}"
