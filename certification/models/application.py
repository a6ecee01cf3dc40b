from collections import defaultdict
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from .people import ROLE_APPLICATION_PATH, Role, RoleGrant, active_roles, grant_scope_field
from .review import EvaluatorAssignment
from .tier import CERTIFIABLE, Tier


class ApplicationQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status__in=Application.CLOSED)

    def for_cluster(self, cluster):
        return self.filter(cluster=cluster)

    def visible_to(self, user):
        """Applications within the scope of the user's active role grants (evaluators: their active assignments).

        The scope rule is `people.ROLE_APPLICATION_PATH`; each role kind is one EXISTS, so the query stays one
        statement however many applications there are (`visible_condition`).
        """
        condition = visible_condition(user)
        return self.none() if condition is None else self.filter(condition)


def visible_condition(user, prefix=""):
    """`visible_to`'s rule as a condition on rows that reach an application by `prefix` ("" for applications):
    Q() for every application, None for none."""
    if not user.is_authenticated or not user.is_active:
        return None
    grants = RoleGrant.objects.active().filter(user=user)
    held = active_roles(user)
    if user.is_superuser or Role.ADMINISTRATOR in held:
        return models.Q()
    # Only the roles the user holds (read once per request): an EXISTS for a role nobody granted them is
    # false anyway, and each one left out is a subquery less to build and to plan on every list page.
    roles_by_path = defaultdict(list)
    for role, path in ROLE_APPLICATION_PATH.items():
        if role in held:
            roles_by_path[path].append(role)
    scope = [
        Exists(grants.filter(role__in=roles, **{grant_scope_field(roles[0]): OuterRef(f"{prefix}{path}")}))
        for path, roles in roles_by_path.items()
    ]
    if Role.EVALUATOR in held:
        scope.append(Exists(grants.filter(role=Role.EVALUATOR)) & assigned_to(user, prefix))
    return models.Q(reduce(or_, scope)) if scope else None


def assigned_to(user, prefix=""):
    """The row's application (reached by `prefix`) has `user` on its panel, an active evaluator assignment."""
    return Exists(
        EvaluatorAssignment.objects.filter(
            application=OuterRef(f"{prefix}pk"), evaluator=user, status=EvaluatorAssignment.Status.ACTIVE
        )
    )


class Application(models.Model):
    """One cluster's bid for the tier directly above the one it holds, pinned to one standard version."""

    class Status(models.TextChoices):
        EVIDENCE = "evidence", _("Collecting evidence")
        FORMAL_REVIEW = "formal_review", _("Formal review")
        CORRECTION = "correction", _("Correction requested")
        ASSIGNMENT = "assignment", _("Assigning evaluators")
        SCORING = "scoring", _("Scoring")
        RECONCILIATION = "reconciliation", _("Reconciling disagreements")
        APPROVAL = "approval", _("Awaiting approval")
        PUBLICITY = "publicity", _("Publicity period")
        CERTIFIED = "certified", _("Certified")
        FAILED = "failed", _("Failed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    CLOSED = {Status.CERTIFIED, Status.FAILED, Status.WITHDRAWN}

    cluster = models.ForeignKey(
        "certification.Cluster", verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="applications"
    )
    target_tier = models.CharField(
        _("target tier"), max_length=20, choices=[c for c in Tier.choices if c[0] in CERTIFIABLE]
    )
    standard = models.ForeignKey(
        "certification.Standard",
        verbose_name=_("standard version"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    year = models.PositiveSmallIntegerField(_("assessment year"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.EVIDENCE)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    status_changed = models.DateTimeField(_("status changed"), auto_now_add=True)
    closed = models.DateTimeField(_("closed"), null=True, blank=True)
    total_score = models.DecimalField(_("total score"), max_digits=7, decimal_places=2, null=True, blank=True)
    vetoes_met = models.BooleanField(_("all veto indicators met"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    # The data versions its computed indicators read (issue 13): pinned at opening and moved to a newer version of a
    # data set only while that data set's evidence still takes uploads (certification.domain.datasets).
    data_versions = models.ManyToManyField(
        "certification.DatasetImport", verbose_name=_("data versions"), blank=True, related_name="pinned_by"
    )

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created"]
        # Object permissions (django-guardian), granted per application by certification.domain.roles:
        # who may take which workflow task. Never granted model-wide, so a role sees only its own scope.
        permissions = [
            ("act_as_lead", _("Can act as the cluster lead on the application")),
            ("act_as_district_office", _("Can act as the district office on the application")),
            ("act_as_district_leader", _("Can act as the district leader on the application")),
            ("act_as_city_office", _("Can act as the city office on the application")),
            ("act_as_city_leader", _("Can act as the city leader on the application")),
            ("act_as_evaluator", _("Can act as an evaluator on the application")),
        ]
        constraints = [
            # At most one open application per cluster, enforced by the database as well as the domain.
            models.UniqueConstraint(
                fields=["cluster"],
                condition=~models.Q(status__in=["certified", "failed", "withdrawn"]),
                name="application_one_open_per_cluster",
            ),
        ]

    def __str__(self):
        return f"{self.cluster} · {self.get_target_tier_display()} · {self.year}"

    @property
    def is_open(self):
        return self.status not in self.CLOSED
