"""The application's review state beside the workflow: stages, corrections, evaluators, objections, certificates."""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .standard import EvidenceStage
from .tier import CERTIFIABLE, Tier

# The tier-history reasons that end a certificate (the values of `TierChange.Reason` EXPIRED/DOWNGRADED/REVOKED).
END_EXPIRED, END_DOWNGRADED, END_REVOKED = "expired", "downgraded", "revoked"
END_REASON_CHOICES = [
    (END_EXPIRED, _("Certificate expired")),
    (END_DOWNGRADED, _("Downgraded after annual review")),
    (END_REVOKED, _("Revoked")),
]


class ApplicationStage(models.Model):
    """One of the three evidence stages of an application. Evidence is frozen once the stage is submitted."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SUBMITTED = "submitted", _("Submitted")

    application = models.ForeignKey(
        "certification.Application", verbose_name=_("application"), on_delete=models.CASCADE, related_name="stages"
    )
    stage = models.CharField(_("stage"), max_length=20, choices=EvidenceStage.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    submitted = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, null=True, blank=True
    )

    class Meta:
        verbose_name = _("evidence stage")
        verbose_name_plural = _("evidence stages")
        ordering = ["application", "id"]
        constraints = [models.UniqueConstraint(fields=["application", "stage"], name="application_stage_unique")]

    def __str__(self):
        return f"{self.application} · {self.get_stage_display()}"


class Resolvable(models.Model):
    """When, and by whom, the office closed it (a 补正 answered, an 异议 decided); open while `resolved` is empty."""

    resolved = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True

    @property
    def is_open(self):
        return self.resolved is None


class CorrectionRequest(Resolvable):
    """补正: the district office returns named indicators with a comment and a deadline."""

    application = models.ForeignKey(
        "certification.Application", verbose_name=_("application"), on_delete=models.CASCADE, related_name="corrections"
    )
    indicators = models.ManyToManyField("certification.Indicator", verbose_name=_("returned indicators"))
    comment = models.TextField(_("comment"))
    deadline = models.DateField(_("deadline"))
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("returned by"), on_delete=models.PROTECT, related_name="+"
    )
    response = models.TextField(_("lead's response"), blank=True)

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["application", "-created"]

    def __str__(self):
        return f"{self.application} · {self.created:%Y-%m-%d}"


class AssignmentStatus(models.TextChoices):
    """An evaluator assignment's status (module level so the model's constraint can name it)."""

    ACTIVE = "active", _("Active")
    RECUSED = "recused", _("Recused")


class EvaluatorAssignment(models.Model):
    """An evaluator on an application's panel. One panel member is the lead who reconciles disagreements."""

    Status = AssignmentStatus

    application = models.ForeignKey(
        "certification.Application", verbose_name=_("application"), on_delete=models.CASCADE, related_name="assignments"
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("evaluator"), on_delete=models.PROTECT, related_name="assignments"
    )
    is_panel_lead = models.BooleanField(_("panel lead"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    recusal_reason = models.TextField(_("recusal reason"), blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned by"), on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(_("assigned"), auto_now_add=True)
    ended = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluator assignment")
        verbose_name_plural = _("evaluator assignments")
        ordering = ["application", "id"]
        # 评审任务 lists an evaluator's assignments newest first: read in that order, the page's 25 rows are the
        # first 25 of the index, not a sort of all of them after joining each to its application and cluster.
        indexes = [models.Index(fields=["evaluator", "-created", "-id"], name="assignment_evaluator_newest")]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "evaluator"],
                condition=models.Q(status=AssignmentStatus.ACTIVE),
                name="assignment_unique_active_evaluator",
            ),
        ]

    def __str__(self):
        return f"{self.application} · {self.evaluator}"

    @property
    def is_active(self):
        return self.status == AssignmentStatus.ACTIVE


class ObjectionBase(Resolvable):
    """What every 异议 holds: its text, when it was raised, and how the office resolved it. Each kind of objection
    declares its own `outcome`, whose choices say what upholding it means there."""

    text = models.TextField(_("objection"))
    raised = models.DateTimeField(_("raised"), auto_now_add=True)
    resolution = models.TextField(_("resolution"), blank=True)

    class Meta:
        abstract = True


class Objection(ObjectionBase):
    """异议 raised during 公示. An open objection holds the certificate until the office resolves it."""

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Upheld: the application fails")
        DISMISSED = "dismissed", _("Dismissed: certification goes ahead")

    application = models.ForeignKey(
        "certification.Application", verbose_name=_("application"), on_delete=models.CASCADE, related_name="objections"
    )
    # Empty for an objection raised on the public 公示 page by someone without an account (name and contact below).
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    objector_name = models.CharField(_("objector's name"), max_length=100, blank=True)
    objector_contact = models.CharField(_("objector's contact"), max_length=100, blank=True)
    attachment_name = models.CharField(_("attachment"), max_length=200, blank=True)
    attachment_stored = models.CharField(_("attachment stored as"), max_length=200, blank=True, editable=False)
    attachment_sha256 = models.CharField(_("attachment SHA-256"), max_length=64, blank=True, editable=False)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["application", "raised"]

    def __str__(self):
        return f"{self.application} · {self.raised:%Y-%m-%d}"

    @property
    def objector(self):
        """Who raised it, as the office reads it: the user, or the public objector's name and contact."""
        if self.raised_by_id:
            return str(self.raised_by)
        return _("%(name)s (public, %(contact)s)") % {"name": self.objector_name, "contact": self.objector_contact}


class Certificate(models.Model):
    """The certificate a passed application earns: serial, tier, the standard version, validity, a check code."""

    serial = models.CharField(_("serial number"), max_length=40, unique=True)
    application = models.OneToOneField(
        "certification.Application", verbose_name=_("application"), on_delete=models.PROTECT, related_name="certificate"
    )
    cluster = models.ForeignKey(
        "certification.Cluster", verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="certificates"
    )
    tier = models.CharField(_("tier"), max_length=20, choices=[c for c in Tier.choices if c[0] in CERTIFIABLE])
    standard = models.ForeignKey("certification.Standard", verbose_name=_("standard version"), on_delete=models.PROTECT)
    issued = models.DateField(_("issued"))
    # A renewal certified before the old certificate ends starts the day after it (no gap, no overlap); empty means
    # valid from the issue date.
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"))
    check_code = models.CharField(
        _("check code"), max_length=64, help_text=_("SHA-256 over the certificate's content.")
    )
    # A certificate ends at the end of `valid_until`, or earlier when a downgrade or a revocation ends it: `ended_on`
    # is the first day it no longer counts, with the tier-history reason (到期/降级/撤销) and the decision's text.
    # Written only by `certification.domain.tiers.end_certificate`.
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=20, choices=END_REASON_CHOICES, blank=True)
    end_note = models.TextField(_("end note"), blank=True)
    # A renewal's certificate continues this one: its validity starts the day after this one ends.
    renews = models.OneToOneField(
        "self",
        verbose_name=_("renews"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewed_by",
    )

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued", "serial"]
        indexes = [models.Index(fields=["cluster", "valid_until"], name="certificate_cluster_validity")]

    def __str__(self):
        return self.serial

    @property
    def revoked(self):
        """The date a revocation ended this certificate, else None."""
        return self.ended_on if self.end_reason == END_REVOKED else None

    @property
    def starts(self):
        return self.valid_from or self.issued

    @property
    def last_day(self):
        """The last day this certificate counts: the end of its validity, or the day before a decision ended it."""
        if self.ended_on is not None:
            return min(self.valid_until, self.ended_on - datetime.timedelta(days=1))
        return self.valid_until

    def counts_on(self, day):
        """Whether this certificate gives its tier on `day`: within its validity and not ended by then."""
        return self.starts <= day <= self.last_day
