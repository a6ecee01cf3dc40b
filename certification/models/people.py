import operator
from functools import reduce

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from .review import EvaluatorAssignment


class Role(models.TextChoices):
    """The roles of DOMAIN.md. Each is a Django group; its scope comes from a RoleGrant."""

    LEAD = "lead", _("Cluster lead")
    DISTRICT_OFFICE = "district_office", _("District office")
    EVALUATOR = "evaluator", _("Evaluator")
    DISTRICT_LEADER = "district_leader", _("District leader")
    CITY_OFFICE = "city_office", _("City office")
    CITY_LEADER = "city_leader", _("City leader")
    ADMINISTRATOR = "administrator", _("Administrator")


# What a role is scoped to: a cluster, a region (district or city), or nothing (assigned per application).
ROLE_SCOPE = {
    Role.LEAD: "cluster",
    Role.DISTRICT_OFFICE: "district",
    Role.DISTRICT_LEADER: "district",
    Role.CITY_OFFICE: "city",
    Role.CITY_LEADER: "city",
    Role.EVALUATOR: None,
    Role.ADMINISTRATOR: None,
}

# Where an application sits for each role granted on a cluster or region: a grant of the role on the object at this
# path (from the application) covers the application. The one scope rule: `Application.objects.visible_to`,
# `RoleGrant.objects.holders` and the guardian grant sync (certification.domain.roles) all read it.
ROLE_APPLICATION_PATH = {
    Role.LEAD: "cluster",
    Role.DISTRICT_OFFICE: "cluster__district",
    Role.DISTRICT_LEADER: "cluster__district",
    Role.CITY_OFFICE: "cluster__district__parent",
    Role.CITY_LEADER: "cluster__district__parent",
}


def scope_object_id(role, application):
    """The id of the cluster or region a grant of `role` must name to cover `application`."""
    obj = application
    *parents, last = ROLE_APPLICATION_PATH[Role(role)].split("__")
    for name in parents:
        obj = getattr(obj, name)
    return getattr(obj, f"{last}_id")


def active_grants_of(user):
    """The role grants `user` holds now, each with its region and the region's parent: one query, read once per
    request (`permission_cache.memo`). A person holds a handful; the roles, the dashboards' scope, who may export and
    the districts they export all come from this one read."""
    from certification.permission_cache import memo

    def read():
        return tuple(RoleGrant.objects.active().filter(user=user).select_related("region__parent").order_by("pk"))

    return memo(("active_grants", user.pk), read)


def active_roles(user):
    """The roles `user` holds now (`active_grants_of`)."""
    return frozenset(grant.role for grant in active_grants_of(user))


def grant_scope_field(role):
    """The RoleGrant field naming a role's scope: "cluster" or "region"."""
    return "cluster" if ROLE_SCOPE[Role(role)] == "cluster" else "region"


class User(AbstractUser):
    """A person. Where they work (school or an education office) decides conflicts of interest."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    employer_school = models.ForeignKey(
        "certification.School",
        verbose_name=_("works at school"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
    )
    employer_office = models.ForeignKey(
        "certification.Region",
        verbose_name=_("works at the education office of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username


class RoleGrantQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked__isnull=True)

    def covering(self, role, application):
        """Active grants of `role` whose scope covers `application` (evaluators: every active evaluator grant)."""
        grants = self.active().filter(role=role)
        if Role(role) not in ROLE_APPLICATION_PATH:
            return grants
        return grants.filter(**{f"{grant_scope_field(role)}_id": scope_object_id(role, application)})

    def holding(self, role, application):
        """The condition, on a user (`User.objects.filter(...)`), of holding `role` over `application`.

        Evaluators hold it over the applications of their active assignments only, while their role is granted.
        """
        held = Exists(self.covering(role, application).filter(user=OuterRef("pk")))
        if Role(role) == Role.EVALUATOR:
            held &= Exists(
                EvaluatorAssignment.objects.filter(
                    application=application, evaluator=OuterRef("pk"), status=EvaluatorAssignment.Status.ACTIVE
                )
            )
        return held

    def holders(self, role, application):
        """The active users holding `role` over `application`, in id order."""
        return User.objects.filter(is_active=True).filter(self.holding(role, application)).order_by("pk")

    def holders_of(self, roles, application):
        """The active holders of each of `roles` over `application`: a list per role, in id order, as `holders`.

        One plain query over the grants covering the application (with their users) for the roles granted on a
        cluster or region; evaluators, who hold the role per assignment, are read as `holders` reads them.
        """
        scoped = [role for role in roles if Role(role) in ROLE_APPLICATION_PATH]
        by_role = {role: {} for role in scoped}
        if scoped:
            # The roles' conditions as one OR of Q objects: `covering` querysets OR-ed together cost the ORM a
            # merge of whole queries for the same WHERE clause.
            covered = reduce(
                operator.or_,
                (
                    Q(role=role, **{f"{grant_scope_field(role)}_id": scope_object_id(role, application)})
                    for role in scoped
                ),
            )
            grants = self.active().filter(covered, user__is_active=True)
            for grant in grants.select_related("user").order_by("user_id"):
                by_role[Role(grant.role)].setdefault(grant.user_id, grant.user)
        return [
            list(by_role[role].values()) if role in by_role else list(self.holders(role, application)) for role in roles
        ]


class RoleGrant(models.Model):
    """A user holding a role within a scope. Created and revoked only by `certification.domain.roles`."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    cluster = models.ForeignKey(
        "certification.Cluster", verbose_name=_("cluster"), on_delete=models.CASCADE, null=True, blank=True
    )
    region = models.ForeignKey(
        "certification.Region", verbose_name=_("region"), on_delete=models.CASCADE, null=True, blank=True
    )
    granted = models.DateTimeField(_("granted"), auto_now_add=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        ordering = ["user", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "cluster", "region"],
                condition=models.Q(revoked__isnull=True),
                name="rolegrant_unique_active",
            ),
        ]

    def __str__(self):
        scope = self.cluster or self.region
        return f"{self.user} · {self.get_role_display()}" + (f" · {scope}" if scope else "")

    def clean(self):
        scope = ROLE_SCOPE[Role(self.role)]
        if scope == "cluster" and (self.cluster_id is None or self.region_id is not None):
            raise ValidationError(_("A cluster lead is granted on one cluster."))
        if scope in {"district", "city"}:
            if self.region_id is None or self.cluster_id is not None:
                raise ValidationError(_("This role is granted on a region."))
            if self.region.kind != scope:
                raise ValidationError(_("This role needs a region of kind %(kind)s."), params={"kind": scope})
        if scope is None and (self.region_id or self.cluster_id):
            raise ValidationError(_("This role has no scope."))
