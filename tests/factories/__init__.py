"""factory_boy factories for the domain. Build published standards with `published_standard(...)`."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from certification.models import (
    Cluster,
    ClusterMembership,
    Dimension,
    EvidenceRequirement,
    Indicator,
    Region,
    School,
    Standard,
    Tier,
    TierChange,
    User,
)


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("name", "kind")

    name = "上海市"
    kind = Region.Kind.CITY
    parent = None


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    name = factory.Sequence(lambda n: f"测试{n}区")
    kind = Region.Kind.DISTRICT
    parent = factory.SubFactory(CityFactory)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    name = factory.Sequence(lambda n: f"测试学校{n}")
    district = factory.SubFactory(DistrictFactory)
    stages = factory.LazyFunction(lambda: ["primary"])
    student_count = 600
    teacher_count = 50


class ClusterFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"测试学区{n}")
    kind = Cluster.Kind.XUEQU
    district = factory.SubFactory(DistrictFactory)

    class Meta:
        model = Cluster
        skip_postgeneration_save = True

    @factory.post_generation
    def current_tier(obj, create, extracted, **kwargs):
        """ClusterFactory(current_tier=…, current_tier__since=…): the tier is derived, so record it as the set-up line
        of the tier history (held since 2020-01-01 unless `since` says otherwise), as the demo loader does."""
        tier = Tier(extracted or Tier.NONE)
        if create and tier != Tier.NONE:
            TierChange.objects.create(
                cluster=obj,
                from_tier=Tier.NONE,
                to_tier=tier,
                reason=TierChange.Reason.INITIAL,
                effective=kwargs.get("since") or datetime.date(2020, 1, 1),
                note="测试数据：设立时的等级",
            )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClusterMembership

    cluster = factory.SubFactory(ClusterFactory)
    school = factory.SubFactory(SchoolFactory, district=factory.SelfAttribute("..cluster.district"))
    role = ClusterMembership.Role.MEMBER


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StandardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Standard

    tier = Tier.CLOSE_KNIT
    version = factory.Sequence(lambda n: n + 1)
    title = "测试评估标准"
    total_score = Decimal("10")
    pass_score = Decimal("6")
    publicity_days = 7
    validity_years = 3


def published_standard(tier=Tier.CLOSE_KNIT, *, indicators=None, **kwargs):
    """A published standard with one dimension and the given indicators (dicts of Indicator fields).

    With no indicators: one scored indicator worth the whole total.
    """
    standard = StandardFactory(tier=tier, **kwargs)
    dimension = Dimension.objects.create(standard=standard, code="A", title="测试维度", order=1)
    specs = indicators or [{"code": "A1", "title": "测试指标", "max_score": standard.total_score, "method": "scored"}]
    for order, spec in enumerate(specs, 1):
        spec = dict(spec)
        evidence = spec.pop("evidence", [])
        indicator = Indicator.objects.create(dimension=dimension, order=order, **spec)
        for item in evidence:
            EvidenceRequirement.objects.create(indicator=indicator, **item)
    standard.status = Standard.Status.PUBLISHED
    standard.published = timezone.now()
    standard.save(update_fields=["status", "published"])
    return standard
