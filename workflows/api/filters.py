"""Filters of the API's lists (django-filter). Labels are shown as the parameters' descriptions."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.status import STATUS

from certification.models import (
    Application,
    Cluster,
    DatasetImport,
    EvidenceFile,
    EvidenceStage,
    Region,
    School,
    Standard,
)
from certification.models.tier import Tier
from workflows.flows import CertificationFlow

MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number the database can hold (a larger one is a 400 naming the parameter)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class RegionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=Region.Kind.choices)
    parent = IdFilter(label=_("parent region"))

    class Meta:
        model = Region
        fields = ["kind", "parent"]


class SchoolFilter(django_filters.FilterSet):
    district = IdFilter(label=_("district"))
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=School.Kind.choices)
    is_relatively_weak = django_filters.BooleanFilter(label=_("relatively weak school"))
    name = django_filters.CharFilter(label=_("name contains"), lookup_expr="icontains")

    class Meta:
        model = School
        fields = ["district", "kind", "is_relatively_weak", "name"]


class ClusterFilter(django_filters.FilterSet):
    district = IdFilter(label=_("district"))
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=Cluster.Kind.choices)
    # The tier is derived (certification.domain.tiers): filtered on its ladder rank in SQL.
    current_tier = django_filters.ChoiceFilter(label=_("current tier"), choices=Tier.choices, method="filter_tier")
    name = django_filters.CharFilter(label=_("name contains"), lookup_expr="icontains")

    class Meta:
        model = Cluster
        fields = ["district", "kind", "current_tier", "name"]

    def filter_tier(self, queryset, name, value):
        return queryset.at_tier(value)


class StandardFilter(django_filters.FilterSet):
    tier = django_filters.ChoiceFilter(label=_("tier"), choices=Tier.choices)
    status = django_filters.ChoiceFilter(label=_("status"), choices=Standard.Status.choices)

    class Meta:
        model = Standard
        fields = ["tier", "status"]


class ApplicationFilter(django_filters.FilterSet):
    cluster = IdFilter(label=_("cluster"))
    status = django_filters.ChoiceFilter(label=_("status"), choices=Application.Status.choices)
    target_tier = django_filters.ChoiceFilter(label=_("target tier"), choices=Tier.choices)
    year = IdFilter(label=_("assessment year"), max_value=32767)

    class Meta:
        model = Application
        fields = ["cluster", "status", "target_tier", "year"]


class EvidenceFileFilter(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(
        label=_("stage"), field_name="requirement__stage", choices=EvidenceStage.choices
    )
    requirement = IdFilter(label=_("evidence requirement"))
    withdrawn = django_filters.BooleanFilter(
        label=_("withdrawn"), field_name="withdrawn", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = EvidenceFile
        fields = ["stage", "requirement", "withdrawn"]


class DatasetImportFilter(django_filters.FilterSet):
    dataset = django_filters.CharFilter(label=_("data set code"))
    status = django_filters.ChoiceFilter(label=_("status"), choices=DatasetImport.Status.choices)

    class Meta:
        model = DatasetImport
        fields = ["dataset", "status"]


def _human_nodes():
    return [(node.name, node.task_title) for node in CertificationFlow.instance.nodes() if node.task_type == "HUMAN"]


class TaskFilter(django_filters.FilterSet):
    application = IdFilter(label=_("application"), field_name="process__artifact_object_id")
    node = django_filters.ChoiceFilter(label=_("step code"), choices=_human_nodes, method="filter_node")
    status = django_filters.ChoiceFilter(
        label=_("task status"), choices=[(STATUS.NEW, _("in the queue")), (STATUS.ASSIGNED, _("assigned"))]
    )

    class Meta:
        model = CertificationFlow.task_class
        fields = ["application", "node", "status"]

    def filter_node(self, queryset, name, value: str):
        return queryset.filter(flow_task=getattr(CertificationFlow, value))
