"""整改: a list of items a cluster must put right by a deadline, from a failed application, a yearly review or an
upheld objection. Each item names the indicator, what must change, its deadline and the lead's evidence; the office
verifies or returns it. State changes: `certification.domain.rectification`.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RectificationList(models.Model):
    class Source(models.TextChoices):
        APPLICATION = "application", _("Failed application")
        YEARLY_REVIEW = "yearly_review", _("Yearly review")
        OBJECTION = "objection", _("Upheld objection")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed: every item verified")
        LAPSED = "lapsed", _("Deadline passed with items open")

    cluster = models.ForeignKey(
        "certification.Cluster", verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="rectifications"
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    application = models.ForeignKey(
        "certification.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rectifications",
    )
    yearly_review = models.ForeignKey(
        "certification.YearlyReview",
        verbose_name=_("yearly review"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rectifications",
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    closed = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("rectification list")
        verbose_name_plural = _("rectification lists")
        ordering = ["-created", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(application__isnull=False) | models.Q(yearly_review__isnull=False),
                name="rectification_has_origin",
            )
        ]

    def __str__(self):
        return f"{self.cluster} · {self.get_source_display()}"


class RectificationItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the cluster")
        ANSWERED = "answered", _("Answered, waiting for verification")
        RETURNED = "returned", _("Returned to the cluster")
        VERIFIED = "verified", _("Verified")

    rectification = models.ForeignKey(
        RectificationList, verbose_name=_("rectification list"), on_delete=models.CASCADE, related_name="items"
    )
    indicator = models.ForeignKey(
        "certification.Indicator", verbose_name=_("indicator"), on_delete=models.PROTECT, null=True, blank=True
    )
    # What the item concerns, as shown (the indicator's code and title, or the objection it comes from).
    concerns = models.CharField(_("concerns"), max_length=300)
    required_change = models.TextField(_("what must change"))
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    response = models.TextField(_("the cluster's answer"), blank=True)
    evidence_name = models.CharField(_("evidence"), max_length=200, blank=True)
    evidence_stored = models.CharField(_("evidence stored as"), max_length=200, blank=True, editable=False)
    evidence_sha256 = models.CharField(_("evidence SHA-256"), max_length=64, blank=True, editable=False)
    answered = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    return_reason = models.TextField(_("why it was returned"), blank=True)
    verified = models.DateTimeField(_("verified"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Each is sent once and recorded: the reminder when the item is overdue, then the escalation to the leader.
    reminded = models.DateTimeField(_("overdue reminder sent"), null=True, blank=True)
    escalated = models.DateTimeField(_("escalated to the leader"), null=True, blank=True)

    class Meta:
        verbose_name = _("rectification item")
        verbose_name_plural = _("rectification items")
        ordering = ["rectification", "deadline", "id"]
        indexes = [models.Index(fields=["status", "deadline"], name="rectification_item_due")]

    def __str__(self):
        return self.concerns

    @property
    def is_closed(self):
        return self.status == self.Status.VERIFIED
