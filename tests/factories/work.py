"""Factories for the people and applications the work pages, notifications and reminders deal with."""

import factory

from certification.domain.roles import grant_role
from certification.models import Application, CorrectionRequest, EvaluatorAssignment, Role, Tier
from tests.factories import ClusterFactory, UserFactory, published_standard


class ApplicationFactory(factory.django.DjangoModelFactory):
    """An application row as the workflow leaves it; pass `status=` for the step to test."""

    class Meta:
        model = Application

    cluster = factory.SubFactory(ClusterFactory)
    target_tier = Tier.CLOSE_KNIT
    standard = factory.LazyAttribute(lambda o: published_standard(o.target_tier))
    year = 2026
    opened_by = factory.SubFactory(UserFactory)


def person(role, *, cluster=None, region=None, **fields):
    """A user holding `role` in the given scope, granted through the domain as in production."""
    user = UserFactory(**fields)
    grant_role(user, role, cluster=cluster, region=region)
    return user


def lead_of(cluster, **fields):
    return person(Role.LEAD, cluster=cluster, **fields)


def office_of(district, **fields):
    return person(Role.DISTRICT_OFFICE, region=district, **fields)


def leader_of(district, **fields):
    return person(Role.DISTRICT_LEADER, region=district, **fields)


def assign(application, evaluator=None, *, by, panel_lead=False, **fields):
    """Put an evaluator on the application's panel (a new evaluator user unless one is given)."""
    if evaluator is None:
        evaluator = person(Role.EVALUATOR, **fields)
    return EvaluatorAssignment.objects.create(
        application=application, evaluator=evaluator, assigned_by=by, is_panel_lead=panel_lead
    )


def correction(application, *, deadline, by, indicators=(), comment="请补充学区章程的表决记录。"):
    request = CorrectionRequest.objects.create(
        application=application, comment=comment, deadline=deadline, created_by=by
    )
    request.indicators.set(indicators)
    return request
