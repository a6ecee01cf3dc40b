"""The yearly review (年度评估) of a certified cluster, its short evidence set and the cluster's objections to a sanction.

Seed 002: "区级每年组织评估……" — a tier is held only while it is earned. One review per cluster and school year; the
workflow (workflows.flows.YearlyReviewFlow) holds it as its artifact, the state changes are
`certification.domain.yearly_review`.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .people import ROLE_APPLICATION_PATH, Role, RoleGrant, grant_scope_field
from .review import ObjectionBase
from .tier import Tier


class YearlyReviewQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The reviews in `user`'s scope, by the one scope rule (`ROLE_APPLICATION_PATH`: a review, like an
        application, sits under its cluster and district); administrators see all."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        grants = RoleGrant.objects.active().filter(user=user)
        if user.is_superuser or grants.filter(role=Role.ADMINISTRATOR).exists():
            return self
        covered = models.Q(pk__in=[])
        for role, path in ROLE_APPLICATION_PATH.items():
            field = f"{grant_scope_field(role)}_id"
            covered |= models.Q(models.Exists(grants.filter(role=role, **{field: models.OuterRef(path)})))
        # Evaluators, as on applications: the reviews of their panels, while they hold the evaluator role.
        covered |= models.Q(
            models.Exists(grants.filter(role=Role.EVALUATOR))
            & models.Q(models.Exists(ReviewAssignment.objects.filter(review=models.OuterRef("pk"), evaluator=user)))
        )
        return self.filter(covered)

    def with_awaiting(self, user):
        """Annotate `awaits_user`: whether the review waits for a step of `user` — the lead's data, the office's
        conclusion or objections, the leader's decision (the city's roles for 市级示范性, the district's otherwise)."""
        grants = RoleGrant.objects.active().filter(user=user)
        by_city = models.Q(tier=Tier.CITY_MODEL)
        Status = YearlyReview.Status
        office_steps = [Status.ASSIGNMENT, Status.CONCLUSION, Status.OBJECTIONS]
        rules = [
            (Role.LEAD, [Status.DATA], models.Q()),
            (Role.DISTRICT_OFFICE, office_steps, ~by_city),
            (Role.CITY_OFFICE, office_steps, by_city),
            (Role.DISTRICT_LEADER, [Status.APPROVAL], ~by_city),
            (Role.CITY_LEADER, [Status.APPROVAL], by_city),
        ]
        awaits = models.Q(pk__in=[])
        for role, statuses, tiers in rules:
            field = f"{grant_scope_field(role)}_id"
            holds = models.Exists(grants.filter(role=role, **{field: models.OuterRef(ROLE_APPLICATION_PATH[role])}))
            awaits |= models.Q(holds) & models.Q(status__in=statuses) & tiers
        opinion_due = ReviewAssignment.objects.filter(
            review=models.OuterRef("pk"), evaluator=user, given__isnull=True
        ).filter(models.Exists(grants.filter(role=Role.EVALUATOR)))
        awaits |= models.Q(status=Status.PANEL) & models.Q(models.Exists(opinion_due))
        return self.annotate(awaits_user=models.ExpressionWrapper(awaits, output_field=models.BooleanField()))

    def with_row_data(self):
        return self.select_related("cluster__district__parent", "certificate", "standard")

    def open(self):
        return self.exclude(status=YearlyReview.Status.CLOSED)


class YearlyReview(models.Model):
    class Status(models.TextChoices):
        DATA = "data", _("Waiting for the cluster's data")
        ASSIGNMENT = "assignment", _("Waiting for the office to assign evaluators")
        PANEL = "panel", _("Waiting for the evaluators' opinions")
        CONCLUSION = "conclusion", _("Waiting for the office's conclusion")
        RECTIFYING = "rectifying", _("Rectifying by the deadline")
        APPROVAL = "approval", _("Awaiting the leader's decision")
        NOTICE = "notice", _("Notice period: the cluster may object")
        OBJECTIONS = "objections", _("Objections being resolved")
        CLOSED = "closed", _("Closed")

    class Conclusion(models.TextChoices):
        MAINTAINED = "maintained", _("Maintained")
        RECTIFY = "rectify", _("Rectify by a date")
        DOWNGRADE = "downgrade", _("Downgrade")
        REVOKE = "revoke", _("Revoke")

    class Outcome(models.TextChoices):
        MAINTAINED = "maintained", _("Tier maintained")
        DOWNGRADED = "downgraded", _("Tier downgraded")
        REVOKED = "revoked", _("Certificate revoked")

    cluster = models.ForeignKey(
        "certification.Cluster", verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="yearly_reviews"
    )
    school_year = models.PositiveSmallIntegerField(_("school year"))
    tier = models.CharField(_("tier under review"), max_length=20, choices=Tier.choices)
    # The certificate of the tier under review; empty for a tier recorded at set-up (the demo's history) without one.
    certificate = models.ForeignKey(
        "certification.Certificate",
        verbose_name=_("certificate"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    # The held tier's standard whose monitoring indicators are computed: the certificate's, else the one in force.
    standard = models.ForeignKey(
        "certification.Standard", verbose_name=_("standard version"), on_delete=models.PROTECT, related_name="+"
    )
    # The data set versions of the cluster's school year the monitoring indicators were computed from (pinned at
    # submission, as an application pins its own); when the year has none yet, those of the certified application.
    data_versions = models.ManyToManyField(
        "certification.DatasetImport", verbose_name=_("data versions"), related_name="pinned_by_reviews", blank=True
    )
    # The certified application: its pinned data stand in for a year with no data imported yet.
    data_application = models.ForeignKey(
        "certification.Application",
        verbose_name=_("data of"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DATA)
    started = models.DateTimeField(_("started"), auto_now_add=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.PROTECT, related_name="+"
    )
    data_note = models.TextField(_("the year's summary"), blank=True)
    submitted = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The monitoring indicators as computed at submission, and the fingerprint of the data they were computed from.
    computed = models.JSONField(_("monitoring indicators"), default=list, blank=True)
    data_version = models.CharField(_("data version"), max_length=64, blank=True)
    conclusion = models.CharField(_("conclusion"), max_length=20, choices=Conclusion.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    rectify_by = models.DateField(_("rectify by"), null=True, blank=True)
    to_tier = models.CharField(_("downgrade to"), max_length=20, choices=Tier.choices, blank=True)
    concluded = models.DateTimeField(_("concluded"), null=True, blank=True)
    concluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("concluded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided = models.DateTimeField(_("leader's decision"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved = models.BooleanField(_("approved"), null=True, blank=True)
    decision_comment = models.TextField(_("leader's comment"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    closed = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = YearlyReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("yearly review")
        verbose_name_plural = _("yearly reviews")
        ordering = ["-school_year", "cluster__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "school_year"], name="yearly_review_one_per_cluster_year")
        ]
        indexes = [models.Index(fields=["status", "school_year"], name="yearly_review_desk")]

    def __str__(self):
        return f"{self.cluster} · {self.school_year}"

    @property
    def sanction(self):
        """Whether the conclusion takes the tier away (downgrade or revocation), which the leader must approve."""
        return self.conclusion in (self.Conclusion.DOWNGRADE, self.Conclusion.REVOKE)


class ReviewAssignment(models.Model):
    """An evaluator on the panel of a yearly review (when the held standard asks for evaluators,
    `Standard.yearly_evaluators`), and the opinion they give: a proposed conclusion and its reason."""

    review = models.ForeignKey(
        YearlyReview, verbose_name=_("yearly review"), on_delete=models.CASCADE, related_name="panel"
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("evaluator"), on_delete=models.PROTECT, related_name="+"
    )
    assigned = models.DateTimeField(_("assigned"), auto_now_add=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned by"), on_delete=models.PROTECT, related_name="+"
    )
    opinion = models.CharField(
        _("proposed conclusion"), max_length=20, choices=YearlyReview.Conclusion.choices, blank=True
    )
    opinion_reason = models.TextField(_("reason for the opinion"), blank=True)
    given = models.DateTimeField(_("opinion given"), null=True, blank=True)

    class Meta:
        verbose_name = _("yearly review evaluator")
        verbose_name_plural = _("yearly review evaluators")
        ordering = ["review", "id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "evaluator"], name="review_assignment_one_per_evaluator")
        ]

    def __str__(self):
        return f"{self.review} · {self.evaluator}"


class ReviewEvidence(models.Model):
    """One file of the review's short evidence set, kept as uploaded (judged by content, like application evidence)."""

    review = models.ForeignKey(
        YearlyReview, verbose_name=_("yearly review"), on_delete=models.CASCADE, related_name="evidence"
    )
    title = models.CharField(_("title"), max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    stored = models.CharField(_("stored as"), max_length=200, editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    size = models.PositiveIntegerField(_("size"), default=0)
    uploaded = models.DateTimeField(_("uploaded"), auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("review evidence")
        verbose_name_plural = _("review evidence")
        ordering = ["review", "id"]

    def __str__(self):
        return self.title


class ReviewObjection(ObjectionBase):
    """异议 of the cluster against an approved downgrade or revocation, raised in the notice period."""

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Upheld: the sanction is withdrawn")
        DISMISSED = "dismissed", _("Dismissed: the sanction takes effect")

    review = models.ForeignKey(
        YearlyReview, verbose_name=_("yearly review"), on_delete=models.CASCADE, related_name="objections"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("raised by"), on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)

    class Meta:
        verbose_name = _("objection to a review")
        verbose_name_plural = _("objections to reviews")
        ordering = ["review", "raised", "id"]

    def __str__(self):
        return f"{self.review} · {self.raised:%Y-%m-%d}"
