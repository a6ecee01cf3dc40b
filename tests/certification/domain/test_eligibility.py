import pytest

from certification.domain.eligibility import check_eligibility
from certification.domain.opening import open_application
from certification.errors import NotEligible
from certification.models import Application, AuditEvent, Tier
from tests.factories import ClusterFactory, published_standard


@pytest.fixture
def standards(db):
    return {tier: published_standard(tier) for tier in (Tier.CLOSE_KNIT, Tier.DISTRICT_MODEL, Tier.CITY_MODEL)}


@pytest.mark.parametrize(
    ("held", "target"),
    [
        (Tier.NONE, Tier.CLOSE_KNIT),
        (Tier.CLOSE_KNIT, Tier.DISTRICT_MODEL),
        (Tier.DISTRICT_MODEL, Tier.CITY_MODEL),
    ],
)
def test_check_eligibility_next_tier_returns_standard_in_force(standards, held, target):
    cluster = ClusterFactory(current_tier=held)

    standard = check_eligibility(cluster, target)

    assert standard == standards[target]


@pytest.mark.parametrize(
    ("held", "target", "expected"),
    [
        (Tier.NONE, Tier.DISTRICT_MODEL, "区级示范性申报须先取得紧密型"),
        (Tier.NONE, Tier.CITY_MODEL, "市级示范性申报须先取得区级示范性"),
        (Tier.CLOSE_KNIT, Tier.CITY_MODEL, "市级示范性申报须先取得区级示范性"),
        (Tier.CLOSE_KNIT, Tier.CLOSE_KNIT, "只能申报比现有等级高一级"),
        (Tier.DISTRICT_MODEL, Tier.CLOSE_KNIT, "只能申报比现有等级高一级"),
        (Tier.CITY_MODEL, Tier.CITY_MODEL, "已是最高等级"),
    ],
)
def test_check_eligibility_wrong_tier_refused_in_chinese(standards, held, target, expected):
    cluster = ClusterFactory(current_tier=held, name="天平-湖南学区")

    with pytest.raises(NotEligible) as refusal:
        check_eligibility(cluster, target)

    assert expected in str(refusal.value)
    assert "天平-湖南学区" in str(refusal.value)


def test_open_application_second_open_application_refused(standards, user):
    cluster = ClusterFactory()
    first = open_application(cluster, Tier.CLOSE_KNIT, by=user)

    with pytest.raises(NotEligible) as refusal:
        open_application(cluster, Tier.CLOSE_KNIT, by=user)

    assert "已有一份未结束的申报" in str(refusal.value)
    assert list(Application.objects.filter(cluster=cluster)) == [first]


def test_open_application_after_failure_allowed_again(standards, user):
    cluster = ClusterFactory()
    first = open_application(cluster, Tier.CLOSE_KNIT, by=user)
    Application.objects.filter(pk=first.pk).update(status=Application.Status.FAILED)

    second = open_application(cluster, Tier.CLOSE_KNIT, by=user)

    assert second.pk != first.pk
    assert second.status == Application.Status.EVIDENCE


def test_open_application_pins_standard_and_writes_audit(standards, user):
    cluster = ClusterFactory(current_tier=Tier.CLOSE_KNIT)

    application = open_application(cluster, Tier.DISTRICT_MODEL, by=user, year=2025)

    assert application.standard == standards[Tier.DISTRICT_MODEL]
    assert application.year == 2025
    event = AuditEvent.objects.get(application=application)
    assert (event.action, event.actor, event.to_state) == ("application.opened", user, "evidence")


def test_check_eligibility_no_published_standard_refused(db):
    cluster = ClusterFactory()

    with pytest.raises(NotEligible) as refusal:
        check_eligibility(cluster, Tier.CLOSE_KNIT)

    assert "尚未发布" in str(refusal.value)
