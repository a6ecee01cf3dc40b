"""The tier a cluster holds, derived from its certificates and its tier history; never stored.

A cluster holds a tier on a day through either
- a certificate of that tier that counts on the day: from its start (`valid_from`, else the issue date) to the end of
  its validity, unless a decision (降级/撤销) ended it earlier (`ended_on` is the first day it no longer counts); or
- its *floor*, the tier held without a certificate of this platform: the last set-up (`initial`) or downgrade row of
  the tier history on or before the day sets it (a downgrade names the tier the cluster keeps), and any revocation
  row from that date on caps it at the revocation's `to_tier`.
The current tier is the highest of these. Expiry needs no stored state: a certificate past its validity stops
counting on the next day even if the expiry job has not yet written its 到期 row.

The same rule exists twice, once over rows in memory (`tier_on`, `held_since`: a page reading one cluster, or a
list page that prefetched `certificates` and `tier_history`) and once in SQL (`ClusterQuerySet.with_tier`: filters,
counts and exports over any number of clusters in one query). tests/certification/domain/test_tiers.py checks
that they agree.
"""

import datetime

from django.apps import apps
from django.db.models import Case, DateField, Expression, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from .tier import LADDER, Tier, tier_rank

# Tier-history reasons (TierChange.Reason values) that set the floor, and the one that caps it.
FLOOR_SETTING = ("initial", "downgraded")
FLOOR_CAPPING = "revoked"
TOP_RANK = len(LADDER) - 1


def _today(on):
    return on or timezone.localdate()


def _history(cluster):
    # .all() reads a prefetch when there is one.
    return sorted(cluster.tier_history.all(), key=lambda change: (change.effective, change.pk or 0))


def floor_rank(history, on):
    """The rank of the tier held without a certificate on `on`, from tier-history rows sorted oldest first."""
    setting = [change for change in history if change.effective <= on and change.reason in FLOOR_SETTING]
    if not setting:
        return 0
    last = setting[-1]
    caps = [
        tier_rank(change.to_tier)
        for change in history
        if change.reason == FLOOR_CAPPING and last.effective <= change.effective <= on
    ]
    return min([tier_rank(last.to_tier), *caps])


def tier_on(cluster, on=None):
    """The tier `cluster` holds on `on` (default today), as a Tier."""
    on = _today(on)
    ranks = [tier_rank(certificate.tier) for certificate in cluster.certificates.all() if certificate.counts_on(on)]
    ranks.append(floor_rank(_history(cluster), on))
    return LADDER[max(ranks)]


def holding_spans(cluster, tier, *, history=None):
    """[(first day, last day or None for open-ended), ...] during which `cluster` held `tier` or a higher one.

    `history` is the cluster's tier history oldest first when the caller has read it already."""
    rank = tier_rank(tier)
    spans = [
        (certificate.starts, certificate.last_day)
        for certificate in cluster.certificates.all()
        if tier_rank(certificate.tier) >= rank and certificate.last_day >= certificate.starts
    ]
    history = _history(cluster) if history is None else history
    # The floor changes only on the dates of setting or capping rows: between two such dates it is constant.
    dates = sorted({change.effective for change in history if change.reason in (*FLOOR_SETTING, FLOOR_CAPPING)})
    for index, day in enumerate(dates):
        if floor_rank(history, day) >= rank:
            end = dates[index + 1] - datetime.timedelta(days=1) if index + 1 < len(dates) else None
            spans.append((day, end))
    return sorted(spans, key=lambda span: span[0])


def held_since(cluster, tier, on=None, *, history=None):
    """The first day of the unbroken run, up to `on`, in which `cluster` held `tier` or higher; None if not held on `on`.

    A renewal that starts the day after the old certificate ends continues the run (no gap). `history`: as for
    `holding_spans`.
    """
    on = _today(on)
    tier = Tier(tier)
    if tier == Tier.NONE:
        return None
    start = None
    end = None
    for first, last in holding_spans(cluster, tier, history=history):
        if first > on:
            break
        if start is None or (end is not None and first > end + datetime.timedelta(days=1)):
            start, end = first, last
        elif end is not None:
            end = None if last is None else max(end, last)
    if start is None or (end is not None and end < on):
        return None
    return start


# ---------------------------------------------------------------------------------------------- the same in SQL


def rank_of(field):
    """SQL: the ladder rank of the tier in `field`."""
    return Case(
        *[When(**{field: tier.value}, then=Value(index)) for index, tier in enumerate(LADDER) if index],
        default=Value(0),
        output_field=IntegerField(),
    )


def tier_of(rank_expression):
    """SQL: the tier value of a ladder rank."""
    return Case(
        *[When(**{rank_expression: index}, then=Value(tier.value)) for index, tier in enumerate(LADDER) if index],
        default=Value(Tier.NONE.value),
    )


class LocalToday(Expression):
    """SQL: today's date in the site's time zone, read when the query runs (not when the queryset was built), so a
    queryset kept in a class attribute still answers for the day it is evaluated."""

    output_field = DateField()

    def as_sql(self, compiler, connection):
        return "%s", [connection.ops.adapt_datefield_value(timezone.localdate())]


def tier_annotations(on=None):
    """Annotations giving each cluster `tier_rank` and `current_tier` on `on` (default: the day the query runs)."""
    # Looked up by name: cluster.py imports this module, so importing it back would close a cycle.
    TierChange = apps.get_model("certification", "TierChange")
    Certificate = apps.get_model("certification", "Certificate")

    on = on or LocalToday()
    counting = (
        Certificate.objects.filter(cluster=OuterRef("pk"), valid_until__gte=on)
        .annotate(_start=Coalesce("valid_from", "issued"))
        .filter(Q(_start__lte=on), Q(ended_on__isnull=True) | Q(ended_on__gt=on))
        .annotate(_rank=rank_of("tier"))
        .order_by("-_rank")
        .values("_rank")[:1]
    )
    setting = TierChange.objects.filter(cluster=OuterRef("pk"), reason__in=FLOOR_SETTING, effective__lte=on).order_by(
        "-effective", "-id"
    )
    capping = (
        TierChange.objects.filter(
            cluster=OuterRef("pk"), reason=FLOOR_CAPPING, effective__lte=on, effective__gte=OuterRef("_floor_from")
        )
        .annotate(_rank=rank_of("to_tier"))
        .order_by("_rank")
        .values("_rank")[:1]
    )
    return [
        {
            "_certificate_rank": Coalesce(Subquery(counting), Value(0)),
            "_floor_from": Subquery(setting.values("effective")[:1]),
            "_floor_set": Coalesce(Subquery(setting.annotate(_rank=rank_of("to_tier")).values("_rank")[:1]), Value(0)),
        },
        {"_floor_cap": Coalesce(Subquery(capping), Value(TOP_RANK))},
        {"tier_rank": Greatest("_certificate_rank", Least("_floor_set", "_floor_cap"))},
        {"current_tier": tier_of("tier_rank")},
    ]
