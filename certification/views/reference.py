"""Read-only pages over the reference data every signed-in user may browse: standards, clusters, schools, regions.

Nothing here changes state. The detail views only gather what their template shows, in a fixed number of queries.
"""

from decimal import Decimal, InvalidOperation

import django_filters
from django.db.models import Count, Prefetch
from django.utils.translation import gettext as _
from viewflow.views import DetailModelView, ListModelView

from certification.metrics import METRICS
from certification.models import (
    Cluster,
    ClusterMembership,
    CommitteeMember,
    Comparator,
    EvidenceStage,
    Indicator,
    Region,
    Role,
    RoleGrant,
    School,
    Standard,
    Tier,
    TierChange,
)

COMPARATOR_SYMBOLS = {Comparator.GTE: "≥", Comparator.GT: ">", Comparator.LTE: "≤", Comparator.LT: "<"}
# Committee seats read from the chair down, the bureau's liaison last.
SEAT_ORDER = [
    CommitteeMember.Role.DIRECTOR,
    CommitteeMember.Role.DEPUTY_DIRECTOR,
    CommitteeMember.Role.SECRETARY_GENERAL,
    CommitteeMember.Role.MEMBER,
    CommitteeMember.Role.LIAISON,
]
# The inter-school difference rate is a coefficient of variation; seed 002 states its bound as 0.15, not as 15%.
PLAIN_RATIO_METRICS = {"inter_school_difference_rate_max"}


def is_administrator(user):
    """Superusers and holders of the administrator role see drafts as well as published standards."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or RoleGrant.objects.active().filter(user=user, role=Role.ADMINISTRATOR).exists()


def _number(value):
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_threshold(text, unit, *, as_percent):
    """A stored threshold ("0.10", "1/3", "5") as a person reads it: "10%", "1/3", "5"."""
    text = (text or "").strip()
    if not text or "/" in text:
        return text  # fractions read best as written (seed 000: 不少于三分之一 → 1/3)
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if unit == "ratio" and as_percent:
        return f"{_number(value * 100)}%"
    if unit == "points":
        return _("%(value)s percentage points") % {"value": _number(value * 100)}
    if unit == "years":
        return _("%(value)s years") % {"value": _number(value)}
    return _number(value)


def describe_rule(indicator):
    """The pass rule of a computed indicator, e.g. "≥ 10%", "between 10%–20%", "< 0.15", "≥ 1/3"; "" when scored."""
    if indicator.method != Indicator.Method.COMPUTED or not indicator.comparator:
        return ""
    metric = METRICS.get(indicator.metric)
    unit = metric.unit if metric else ""
    as_percent = indicator.metric not in PLAIN_RATIO_METRICS
    low = format_threshold(indicator.threshold, unit, as_percent=as_percent)
    if indicator.comparator == Comparator.BETWEEN:
        high = format_threshold(indicator.threshold_high, unit, as_percent=as_percent)
        return _("between %(low)s–%(high)s") % {"low": low, "high": high}
    return f"{COMPARATOR_SYMBOLS[Comparator(indicator.comparator)]} {low}"


class ReferenceListView(ListModelView):
    """Viewflow's list page with a translated pagination line."""

    template_name = "certification/reference/list.html"
    paginate_by = 25


class StandardListView(ReferenceListView):
    def get_queryset(self):
        queryset = super().get_queryset()
        # Drafts are work in progress of the administrators; everyone else sees what is or was in force.
        if is_administrator(self.request.user):
            return queryset
        return queryset.exclude(status=Standard.Status.DRAFT)


def _district_choices(request=None):
    # Region.__str__ names the city too; without the join every option of the filter would cost a query.
    return Region.objects.districts().select_related("parent").order_by("parent__name", "name")


class ClusterFilter(django_filters.FilterSet):
    district = django_filters.ModelChoiceFilter(queryset=_district_choices)

    class Meta:
        model = Cluster
        fields = ["kind", "current_tier", "district"]


class SchoolFilter(django_filters.FilterSet):
    district = django_filters.ModelChoiceFilter(queryset=_district_choices)

    class Meta:
        model = School
        fields = ["kind", "district", "is_relatively_weak"]


class StandardDetailView(DetailModelView):
    template_name = "certification/reference/standard_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        dimensions = self.object.dimensions.prefetch_related(
            Prefetch("indicators", queryset=Indicator.objects.prefetch_related("evidence_requirements"))
        )
        stage_labels = dict(EvidenceStage.choices)
        rows = []
        for dimension in dimensions:
            indicators = []
            for indicator in dimension.indicators.all():
                evidence = {}
                for requirement in indicator.evidence_requirements.all():
                    evidence.setdefault(requirement.stage, []).append(requirement)
                metric = METRICS.get(indicator.metric)
                indicators.append(
                    {
                        "indicator": indicator,
                        "metric_label": metric.label if metric else indicator.metric,
                        "rule": describe_rule(indicator),
                        "evidence": [
                            (stage_labels[stage], evidence[stage])
                            for stage in EvidenceStage.values
                            if stage in evidence
                        ],
                    }
                )
            subtotal = sum((row["indicator"].max_score for row in indicators), Decimal(0))
            rows.append({"dimension": dimension, "indicators": indicators, "subtotal": subtotal})
        context["dimension_rows"] = rows
        context["tolerance_percent"] = f"{_number(self.object.disagreement_tolerance * 100)}%"
        return context


class ClusterDetailView(DetailModelView):
    template_name = "certification/reference/cluster_detail.html"

    def get_queryset(self):
        return Cluster.objects.select_related("district__parent").prefetch_related(
            Prefetch("memberships", queryset=ClusterMembership.objects.select_related("school")),
            "committee",
            Prefetch(
                "tier_history", queryset=TierChange.objects.select_related("recorded_by").order_by("effective", "id")
            ),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        memberships = list(self.object.memberships.all())
        context["memberships"] = memberships
        context["lead_memberships"] = [m for m in memberships if m.role in ClusterMembership.LEAD_ROLES]
        seat_rank = {role: rank for rank, role in enumerate(SEAT_ORDER)}
        context["committee"] = sorted(
            self.object.committee.all(), key=lambda seat: (seat_rank.get(seat.role, 99), seat.pk)
        )
        context["student_total"] = sum(m.school.student_count for m in memberships)
        context["teacher_total"] = sum(m.school.teacher_count for m in memberships)
        return context


class SchoolDetailView(DetailModelView):
    template_name = "certification/reference/school_detail.html"

    def get_queryset(self):
        return School.objects.select_related("district__parent").prefetch_related(
            Prefetch("memberships", queryset=ClusterMembership.objects.select_related("cluster"))
        )


class RegionDetailView(DetailModelView):
    template_name = "certification/reference/region_detail.html"

    def get_queryset(self):
        return Region.objects.select_related("parent")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        region = self.object
        if region.kind == Region.Kind.CITY:
            clusters = Cluster.objects.filter(district__parent=region)
            context["districts"] = region.districts.annotate(
                cluster_count=Count("clusters", distinct=True), school_count=Count("schools", distinct=True)
            ).order_by("name")
        else:
            clusters = Cluster.objects.filter(district=region)
        counts = dict(clusters.order_by().values_list("current_tier").annotate(n=Count("id")))
        total = sum(counts.values())
        # The district plans' targets are shares of all clusters (seed 000: close-knit > 50%; seed 002:
        # district-model > 30%), and a cluster at a higher tier counts towards the lower targets too.
        rows, at_or_above = [], total
        for value, label in Tier.choices:
            count = counts.get(value, 0)
            share = (Decimal(at_or_above * 100) / total).quantize(Decimal("1")) if total else None
            rows.append({"label": label, "count": count, "share_at_or_above": share, "tier": value})
            at_or_above -= count
        context["tier_rows"] = rows
        context["target_note"] = _(
            "District plans set targets as shares of all clusters, e.g. close-knit above 50% and district-model "
            "above 30% (seeds 000 and 002). A cluster at a higher tier counts towards the lower targets too."
        )
        context["cluster_total"] = total
        context["school_total"] = School.objects.filter(
            district__in=[region] if region.kind == Region.Kind.DISTRICT else region.districts.all()
        ).count()
        return context
