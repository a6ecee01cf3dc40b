"""Read-only pages over the reference data every signed-in user may browse: standards, clusters, schools, regions.

Nothing here changes state. The detail views only gather what their template shows, in a fixed number of queries.
"""

from decimal import Decimal

import django_filters
from django.db.models import Count, Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.views import DetailModelView, ListModelView

from certification import scope
from certification.domain import public
from certification.metrics import METRICS, describe_rule, format_percent
from certification.models import (
    Cluster,
    ClusterMembership,
    CommitteeMember,
    EvidenceStage,
    Indicator,
    Region,
    School,
    Standard,
    Tier,
    TierChange,
)
from certification.models.tier import LADDER
from certification.permissions import is_administrator

# Committee seats read from the chair down, the bureau's liaison last.
SEAT_ORDER = [
    CommitteeMember.Role.DIRECTOR,
    CommitteeMember.Role.DEPUTY_DIRECTOR,
    CommitteeMember.Role.SECRETARY_GENERAL,
    CommitteeMember.Role.MEMBER,
    CommitteeMember.Role.LIAISON,
]


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
    # The tier is derived: the list's queryset carries it as the `with_tier()` annotation.
    current_tier = django_filters.ChoiceFilter(
        label=gettext_lazy("current tier"), choices=Tier.choices, method="filter_tier"
    )

    def filter_tier(self, queryset, name, value):
        return queryset.at_tier(value)

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
        context["tolerance_percent"] = format_percent(self.object.disagreement_tolerance)
        return context


class ClusterDetailView(DetailModelView):
    template_name = "certification/reference/cluster_detail.html"

    def get_queryset(self):
        return Cluster.objects.select_related("district__parent").prefetch_related(
            Prefetch("memberships", queryset=ClusterMembership.objects.select_related("school")),
            "committee",
            "certificates",
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
        # Every certificate with its state today (valid, expired, downgraded, revoked, renewal pending) and the day it
        # stopped counting: the same rule the tier is derived by (certification.domain.tiers).
        context["certificates"] = [
            {
                "certificate": certificate,
                "state": public.STATE_LABELS[public.certificate_state(certificate)],
                "ended_on": public.certificate_ended_on(certificate),
            }
            for certificate in sorted(self.object.certificates.all(), key=lambda c: (c.starts, c.pk))
        ]
        context["student_total"] = sum(m.school.student_count for m in memberships)
        context["teacher_total"] = sum(m.school.teacher_count for m in memberships)
        # Its data by school year and the self-check, for those the cluster's data pages admit.
        context["sees_data"] = scope.sees_cluster(self.request.user, self.object)
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
        # Only valid tiers count: the tier derived from the certificates and the tier history, today.
        ranks = clusters.with_tier().order_by().values_list("tier_rank").annotate(n=Count("id"))
        counts = {LADDER[rank].value: n for rank, n in ranks}
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
