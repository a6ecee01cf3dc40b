from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .tier import Tier


def full_years(start, end):
    """Whole years from `start` to `end`: an anniversary not yet reached does not count."""
    years = end.year - start.year
    return years - 1 if (end.month, end.day) < (start.month, start.day) else years


class ClusterQuerySet(models.QuerySet):
    def in_district(self, district):
        return self.filter(district=district)

    def with_members(self):
        return self.select_related("district__parent").prefetch_related("memberships__school")


class Cluster(models.Model):
    """A 学区 (schools grouped by geography) or an 教育集团 (a group around a core school)."""

    class Kind(models.TextChoices):
        XUEQU = "xuequ", _("School district (xuequ)")
        GROUP = "group", _("Education group")

    class GroupModel(models.TextChoices):
        # Seed 001: 融合型 is one legal school with several campuses, 联盟型 an alliance of independent schools.
        MERGED = "merged", _("Merged (one school, several campuses)")
        ALLIANCE = "alliance", _("Alliance (independent schools)")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    group_model = models.CharField(_("group model"), max_length=20, choices=GroupModel.choices, blank=True)
    district = models.ForeignKey(
        "certification.Region",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="clusters",
        limit_choices_to={"kind": "district"},
    )
    # Seed 002 gives a new cluster 3–5 years to become close-knit ("新成立的学区和集团，力争3-5年成为紧密型"): the
    # founding date and the tier history (`reached_on`) are what a district plan's targets are measured against.
    founded_on = models.DateField(_("founded"), null=True, blank=True)
    current_tier = models.CharField(_("current tier"), max_length=20, choices=Tier.choices, default=Tier.NONE)
    tier_since = models.DateField(_("tier held since"), null=True, blank=True)
    schools = models.ManyToManyField(
        "certification.School", through="certification.ClusterMembership", related_name="clusters"
    )

    objects = ClusterQuerySet.as_manager()

    class Meta:
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        ordering = ["district", "name"]
        constraints = [models.UniqueConstraint(fields=["district", "name"], name="cluster_unique_name_in_district")]

    def __str__(self):
        return self.name

    def clean(self):
        if self.kind == self.Kind.GROUP and not self.group_model:
            raise ValidationError({"group_model": _("An education group must be merged or alliance.")})
        if self.kind == self.Kind.XUEQU and self.group_model:
            raise ValidationError({"group_model": _("Only an education group has a group model.")})

    def reached_on(self):
        """{tier: the date the cluster last reached it}, from the tier history (TierChange rows), oldest first."""
        changes = self.tier_history.order_by("effective", "id").values_list("to_tier", "effective")
        return dict(changes)

    def years_to_reach(self, tier):
        """Full years from the founding date to the date the cluster reached `tier`; None when either is unknown."""
        reached = self.reached_on().get(tier)
        if self.founded_on is None or reached is None:
            return None
        return full_years(self.founded_on, reached)

    def lead_memberships(self):
        return [m for m in self.memberships.all() if m.role in ClusterMembership.LEAD_ROLES]


class ClusterMembership(models.Model):
    class Role(models.TextChoices):
        LEAD_SECONDARY = "lead_secondary", _("Lead secondary school")
        LEAD_PRIMARY = "lead_primary", _("Lead primary school")
        LEAD = "lead", _("Lead school")
        CORE = "core", _("Core school")
        MEMBER = "member", _("Member school")

    LEAD_ROLES = {Role.LEAD_SECONDARY, Role.LEAD_PRIMARY, Role.LEAD, Role.CORE}

    cluster = models.ForeignKey(
        Cluster, verbose_name=_("cluster"), on_delete=models.CASCADE, related_name="memberships"
    )
    school = models.ForeignKey(
        "certification.School", verbose_name=_("school"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    joined = models.DateField(_("joined"), null=True, blank=True)

    class Meta:
        verbose_name = _("cluster member school")
        verbose_name_plural = _("cluster member schools")
        ordering = ["cluster", "id"]
        constraints = [models.UniqueConstraint(fields=["cluster", "school"], name="membership_unique_school")]

    def __str__(self):
        return f"{self.cluster} · {self.school} ({self.get_role_display()})"


class CommitteeMember(models.Model):
    """A seat on the cluster's committee (学区化办学工作委员会) or board (理事会), named by role and affiliation."""

    class Role(models.TextChoices):
        DIRECTOR = "director", _("Director")
        DEPUTY_DIRECTOR = "deputy_director", _("Deputy director")
        MEMBER = "member", _("Committee member")
        SECRETARY_GENERAL = "secretary_general", _("Secretary general")
        LIAISON = "liaison", _("Bureau liaison officer")

    cluster = models.ForeignKey(Cluster, verbose_name=_("cluster"), on_delete=models.CASCADE, related_name="committee")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    affiliation = models.CharField(_("affiliation"), max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        verbose_name = _("committee member")
        verbose_name_plural = _("committee members")
        ordering = ["cluster", "role", "id"]

    def __str__(self):
        return f"{self.get_role_display()} · {self.affiliation}"


class TierChange(models.Model):
    """One step in a cluster's tier history. Written only by domain functions."""

    class Reason(models.TextChoices):
        INITIAL = "initial", _("Recorded at set-up")
        CERTIFIED = "certified", _("Certified")
        DOWNGRADED = "downgraded", _("Downgraded after annual review")
        EXPIRED = "expired", _("Certificate expired")
        REVOKED = "revoked", _("Certificate revoked")

    cluster = models.ForeignKey(
        Cluster, verbose_name=_("cluster"), on_delete=models.CASCADE, related_name="tier_history"
    )
    from_tier = models.CharField(_("from tier"), max_length=20, choices=Tier.choices)
    to_tier = models.CharField(_("to tier"), max_length=20, choices=Tier.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True)
    effective = models.DateField(_("effective from"))
    recorded = models.DateTimeField(_("recorded"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, null=True, blank=True
    )
    application = models.ForeignKey(
        "certification.Application", verbose_name=_("application"), on_delete=models.PROTECT, null=True, blank=True
    )

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier history")
        ordering = ["cluster", "effective", "id"]

    def __str__(self):
        return f"{self.cluster}: {self.get_from_tier_display()} → {self.get_to_tier_display()}"
