"""Plan targets: recorded by the district office with the seed sentence, progress computed from the tier history."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from certification.domain import plans
from certification.errors import InvalidInput, NotAllowed
from certification.models import AuditEvent, PlanTarget, Role, TierChange
from certification.models.tier import Tier
from tests.factories import ClusterFactory, DistrictFactory
from tests.factories.plans import certify, change
from tests.factories.work import office_of, person

pytestmark = pytest.mark.django_db

SEEDS = [settings.BASE_DIR.parent / "shared" / "seeds", Path("/work/shared/seeds")]


@pytest.fixture
def district():
    return DistrictFactory(name="闵行区")


@pytest.fixture
def office(district):
    return office_of(district)


@pytest.fixture
def world(district, office):
    """Five clusters whose valid tiers, worked out by hand, are in the test below."""
    c1 = ClusterFactory(district=district, founded_on=date(2018, 9, 1))
    change(c1, Tier.CLOSE_KNIT, date(2019, 1, 1), TierChange.Reason.INITIAL)  # paper certificate, counts
    change(c1, Tier.NONE, date(2024, 9, 1), TierChange.Reason.DOWNGRADED, from_tier=Tier.CLOSE_KNIT)
    c2 = ClusterFactory(district=district, founded_on=date(2016, 1, 1))
    certify(c2, Tier.CLOSE_KNIT, date(2021, 6, 1), date(2024, 6, 1))  # late (after 5 years), lapses in 2024
    c3 = ClusterFactory(district=district, founded_on=date(2020, 1, 1))
    certify(c3, Tier.CLOSE_KNIT, date(2020, 12, 1), date(2023, 12, 1))
    certify(c3, Tier.DISTRICT_MODEL, date(2023, 6, 1), date(2026, 6, 1))
    c4 = ClusterFactory(district=district, founded_on=date(2022, 3, 1))
    certify(c4, Tier.CLOSE_KNIT, date(2025, 3, 1), date(2028, 3, 1), revoked=date(2025, 10, 1))
    ClusterFactory(district=district, founded_on=date(2024, 1, 1))
    ClusterFactory(district=DistrictFactory())  # another district's cluster never counts
    plans.record_seed_targets(district, by=office)
    return district


def standing(district, day):
    return {
        (p.target.year, p.target.measure, p.target.tier): (p.value, p.numerator, p.denominator, p.met)
        for p in plans.progress_of_district(district, day)
    }


def test_progress_at_two_dates_from_the_tier_history(world):
    share, count, years = PlanTarget.Measure.SHARE_AT_TIER, PlanTarget.Measure.COUNT_AT_TIER, "years_to_tier"

    end_2022 = standing(world, date(2022, 12, 31))
    end_2025 = standing(world, date(2025, 12, 31))

    # 2022-12-31: c1..c4 exist (c5 founded 2024). At 紧密型 or above: c1 (set-up), c2, c3 = 3 of 4 = 75.0% > 50%.
    # 区级示范性: none. 5 years after founding are due only for c2 (2016 → 2021-01-01), which reached 紧密型 on
    # 2021-06-01: late, 0 of 1.
    assert end_2022 == {
        (2022, share, Tier.CLOSE_KNIT): (Decimal("75.0"), 3, 4, True),
        (2022, count, Tier.CITY_MODEL): (Decimal(0), 0, 4, False),
        (2025, share, Tier.DISTRICT_MODEL): (Decimal("0.0"), 0, 4, False),
        (2025, count, Tier.CITY_MODEL): (Decimal(0), 0, 4, False),
        (2025, years, Tier.CLOSE_KNIT): (Decimal("0.0"), 0, 1, False),
    }
    # 2025-12-31: five clusters. c1 downgraded, c2's certificate lapsed, c4's revoked: only c3 counts, at
    # 区级示范性 (its 紧密型 certificate lapsed too, the higher one backs it): 1 of 5 = 20.0% for both shares.
    # Due for the 5 years: c1 (reached 2019-01-01, in time), c2 (late), c3 (2020-12-01, in time) = 2 of 3.
    assert end_2025 == {
        (2022, share, Tier.CLOSE_KNIT): (Decimal("20.0"), 1, 5, False),
        (2022, count, Tier.CITY_MODEL): (Decimal(0), 0, 5, False),
        (2025, share, Tier.DISTRICT_MODEL): (Decimal("20.0"), 1, 5, False),
        (2025, count, Tier.CITY_MODEL): (Decimal(0), 0, 5, False),
        (2025, years, Tier.CLOSE_KNIT): (Decimal("66.7"), 2, 3, False),
    }


def test_progress_reads_a_fixed_number_of_queries(world, django_assert_num_queries):
    with django_assert_num_queries(4):
        plans.progress_of_district(world, date(2025, 12, 31))


def test_seed_targets_quote_the_seed_files_word_for_word():
    folder = next((path for path in SEEDS if path.is_dir()), None)
    assert folder is not None, f"the seeds are expected in one of {SEEDS}"
    for target in plans.SEED_TARGETS:
        assert target.quote in (folder / target.seed).read_text(encoding="utf-8"), target.quote


def test_office_records_a_target_with_its_citation_and_an_audit_row(district, office):
    target = plans.record_target(
        district, year=2025, measure="share_at_tier", tier=Tier.DISTRICT_MODEL, low=Decimal(30),
        seed="002_8209cd563b3064c1.txt", quote="到2025年，力争区级示范性学区集团占全区比例超过30%", by=office,
    )  # fmt: skip
    corrected = plans.record_target(
        district, year=2025, measure="share_at_tier", tier=Tier.DISTRICT_MODEL, low=Decimal(35),
        seed="002_8209cd563b3064c1.txt", quote="到2025年，力争区级示范性学区集团占全区比例超过30%", by=office,
    )  # fmt: skip

    assert corrected.pk == target.pk and PlanTarget.objects.get().low == Decimal(35)
    events = list(AuditEvent.objects.filter(action="plan_target.recorded").values_list("actor", "to_state"))
    assert events == [(office.pk, "recorded"), (office.pk, "corrected")]


def test_targets_are_refused_to_other_offices_and_without_a_citation(district, office):
    other = office_of(DistrictFactory())
    leader = person(Role.DISTRICT_LEADER, region=district)
    fields = {"year": 2025, "measure": "count_at_tier", "tier": Tier.CITY_MODEL, "low": Decimal(3)}

    with pytest.raises(NotAllowed):
        plans.record_target(district, seed="002", quote="有3-4个", by=other, **fields)
    with pytest.raises(NotAllowed):
        plans.record_target(district, seed="002", quote="有3-4个", by=leader, **fields)
    with pytest.raises(InvalidInput):
        plans.record_target(district, seed="002", quote=" ", by=office, **fields)
    assert not PlanTarget.objects.exists()
