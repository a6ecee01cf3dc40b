"""The district's plan targets and the progress towards them, computed from the tier history for any date.

Only valid tiers count. A cluster's valid tier on a day is derived as everywhere else (certification.models.holding):
a certificate valid that day (started, not expired, not ended by a downgrade or revocation by then), or the tier
recorded at set-up or named by a downgrade (a TierChange "initial"/"downgraded", capped by later revocations). A
certificate that lapsed therefore stops counting even before anyone records the lapse, and a downgrade counts from
its effective day.

Every read here runs a fixed number of queries (targets, clusters, tier history, certificates) whatever the number
of clusters; the sums are done in Python.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _

from certification.errors import InvalidInput, NotAllowed
from certification.models import Cluster, PlanTarget, Role, holding
from certification.models.tier import Tier, tier_rank

from . import audit, roles

Measure = PlanTarget.Measure


@dataclass(frozen=True)
class SeedTarget:
    """A target as a policy document states it: the sentence is quoted from the seed file named."""

    measure: str
    tier: str
    year: int
    low: Decimal
    high: Decimal | None
    seed: str
    quote: str


# The Minhang plans (seeds 000 and 002), quoted word for word. The product has no separate city-level close-knit
# designation: the city decides only 市级示范性, so seed 000's "市级紧密型" count is read at that tier.
SEED_TARGETS = [
    SeedTarget(
        Measure.SHARE_AT_TIER,
        Tier.CLOSE_KNIT,
        2022,
        Decimal(50),
        None,
        "000_2e706467f536e9b4.txt",
        "计划到2022年,紧密型学区集团占全区比例超过50%",
    ),
    SeedTarget(
        Measure.COUNT_AT_TIER,
        Tier.CITY_MODEL,
        2022,
        Decimal(4),
        Decimal(5),
        "000_2e706467f536e9b4.txt",
        "且有4-5个学区或集团成为市级紧密型学区、集团",
    ),
    SeedTarget(
        Measure.SHARE_AT_TIER,
        Tier.DISTRICT_MODEL,
        2025,
        Decimal(30),
        None,
        "002_8209cd563b3064c1.txt",
        "到2025年，力争区级示范性学区集团占全区比例超过30%",
    ),
    SeedTarget(
        Measure.COUNT_AT_TIER,
        Tier.CITY_MODEL,
        2025,
        Decimal(3),
        Decimal(4),
        "002_8209cd563b3064c1.txt",
        "且有3-4个学区或集团成为市示范性学区集团",
    ),
    SeedTarget(
        Measure.YEARS_TO_TIER,
        Tier.CLOSE_KNIT,
        2025,
        Decimal(3),
        Decimal(5),
        "002_8209cd563b3064c1.txt",
        "新成立的学区和集团，力争3-5年成为紧密型学区和集团",
    ),
]


# ---------------------------------------------------------------------------------------------- recording


def may_record_targets(user, district):
    return user.is_authenticated and (
        user.is_superuser
        or roles.holds_role(user, Role.DISTRICT_OFFICE, region=district)
        or roles.holds_role(user, Role.ADMINISTRATOR)
    )


def record_target(district, *, year, measure, tier, low, high=None, seed, quote, by):
    """The district office records (or corrects) one target of its plan, citing the policy sentence.

    Refused unless `by` is the district's office (or an administrator); a share must lie in 0..100, a range must
    not run backwards, and the sentence must be given. Side effects: the PlanTarget (one per district, year,
    measure and tier: recording it again replaces the numbers and the citation), an audit row.
    """
    if not may_record_targets(by, district):
        raise NotAllowed(_("Only the district's office may record its plan targets."))
    quote, seed = (quote or "").strip(), (seed or "").strip()
    if not quote or not seed:
        raise InvalidInput(_("Cite the policy document and the sentence the target comes from."))
    if measure not in Measure.values or tier not in Tier.values or tier == Tier.NONE:
        raise InvalidInput(_("Choose a measure and a tier."))
    if low < 0 or (measure == Measure.SHARE_AT_TIER and low > 100):
        raise InvalidInput(_("A share is a percentage between 0 and 100."))
    if high is not None and high < low:
        raise InvalidInput(_("The upper end of the target cannot be below its lower end."))
    if measure == Measure.YEARS_TO_TIER and high is None:
        raise InvalidInput(_("Give the number of years within which a new cluster should reach the tier."))
    with transaction.atomic():
        target, created = PlanTarget.objects.update_or_create(
            district=district,
            year=year,
            measure=measure,
            tier=tier,
            defaults={"low": low, "high": high, "seed": seed, "quote": quote, "recorded_by": by},
        )
        audit.record(
            "plan_target.recorded",
            actor=by,
            obj=target,
            to_state="recorded" if created else "corrected",
            reason=quote,
            payload={"district": district.pk, "year": year, "measure": measure, "tier": tier, "seed": seed,
                     "low": str(low), "high": str(high) if high is not None else None},
        )  # fmt: skip
    return target


def record_seed_targets(district, *, by):
    """Record every target of `SEED_TARGETS` for `district` (the Minhang plans), through `record_target`."""
    return [
        record_target(
            district,
            year=t.year,
            measure=t.measure,
            tier=t.tier,
            low=t.low,
            high=t.high,
            seed=t.seed,
            quote=t.quote,
            by=by,
        )
        for t in SEED_TARGETS
    ]


# ---------------------------------------------------------------------------------------------- tier history


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class TierHistory:
    """The tier history and certificates of a set of clusters, read in two queries, answering for any day.

    The rule is the one every page uses (certification.models.holding, certification.domain.tiers).
    """

    def __init__(self, clusters):
        self.clusters = list(clusters)
        prefetch_related_objects(self.clusters, "certificates", "tier_history")
        self._by_id = {cluster.pk: cluster for cluster in self.clusters}

    def valid_tier(self, cluster_id, day):
        """The tier that counts for the cluster on `day` (see the module's docstring)."""
        return holding.tier_on(self._by_id[cluster_id], day)

    def first_reached(self, cluster_id, tier, until):
        """The first day on or before `until` on which the cluster's valid tier is `tier` or above, or None."""
        cluster = self._by_id[cluster_id]
        days = sorted(
            {change.effective for change in cluster.tier_history.all()}
            | {certificate.starts for certificate in cluster.certificates.all()}
        )
        for day in days:
            if day > until:
                break
            if tier_rank(self.valid_tier(cluster_id, day)) >= tier_rank(tier):
                return day
        return None


# ---------------------------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class Progress:
    """A target's standing on one day. `value` is a percentage or a count (None when nothing is due yet)."""

    target: PlanTarget
    day: date
    value: Decimal | None
    numerator: int
    denominator: int
    met: bool


def _percent(part, whole):
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


def progress_on(target, day, clusters, history):
    """The progress of `target` on `day`, over `clusters` (the district's) and their `history` (a TierHistory)."""
    existing = [c for c in clusters if c.founded_on is None or c.founded_on <= day]
    at_tier = sum(1 for c in existing if tier_rank(history.valid_tier(c.pk, day)) >= tier_rank(target.tier))
    if target.measure == Measure.SHARE_AT_TIER:
        value = _percent(at_tier, len(existing))
        return Progress(target, day, value, at_tier, len(existing), value is not None and value > target.low)
    if target.measure == Measure.COUNT_AT_TIER:
        return Progress(target, day, Decimal(at_tier), at_tier, len(existing), at_tier >= target.low)
    # Years to the tier: clusters founded at least `high` years before the day must have reached it by then.
    years = int(target.high)
    due = [c for c in existing if c.founded_on is not None and _add_years(c.founded_on, years) <= day]
    in_time = sum(1 for c in due if history.first_reached(c.pk, target.tier, _add_years(c.founded_on, years)))
    value = _percent(in_time, len(due))
    return Progress(target, day, value, in_time, len(due), in_time == len(due))


def district_clusters(districts):
    return list(Cluster.objects.filter(district__in=districts).only("id", "district_id", "founded_on", "name"))


def targets_of(districts):
    return list(PlanTarget.objects.filter(district__in=districts).select_related("district__parent"))


def progress_of_district(district, day):
    """[Progress, ...] of every target of `district` on `day`, in four queries."""
    clusters = district_clusters([district])
    history = TierHistory(clusters)
    return [progress_on(target, day, clusters, history) for target in targets_of([district])]


def year_ends(first, last, today):
    """The days the charts sample: 31 December of each year from `first` to `last`, today for the current year."""
    return [
        min(date(year, 12, 31), today) if year == today.year else date(year, 12, 31) for year in range(first, last + 1)
    ]
