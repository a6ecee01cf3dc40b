"""What the district and city dashboards show: progress against each plan target over time, clusters by tier,
applications by stage with how long each stage takes (median and 90th percentile), and overdue corrections.

Each figure is a `Chart`: the numbers a browser draws (labels and series) and the table printed beside it, built
from the same rows, so the page's table, the JSON endpoint and the .xlsx download cannot disagree. A dashboard is
read in a fixed number of queries whatever the number of clusters and applications (see `build_dashboard`).
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from statistics import median

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.models import Application, AuditEvent, CorrectionRequest, PlanTarget, Region, Role
from certification.models.tier import LADDER, Tier, tier_rank
from certification.scope import active_grants

from .plans import TierHistory, district_clusters, progress_on, targets_of, year_ends

# How many years back a target's chart starts, before its target year.
YEARS_BEFORE_TARGET = 4


@dataclass
class Series:
    name: str
    values: list


@dataclass
class Chart:
    """One chart and its table. `kind` is a Chart.js chart type ("line" or "bar")."""

    id: str
    title: str
    kind: str
    x_label: str
    labels: list
    series: list = field(default_factory=list)
    note: str = ""

    @property
    def columns(self):
        return [self.x_label, *(s.name for s in self.series)]

    @property
    def rows(self):
        """The table: one row per label, the label then each series' value, as the page prints them."""
        return [[str(label), *(_cell(s.values[i]) for s in self.series)] for i, label in enumerate(self.labels)]

    def as_json(self):
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "labels": [str(label) for label in self.labels],
            "series": [{"name": s.name, "values": [_number(v) for v in s.values]} for s in self.series],
            "columns": self.columns,
            "rows": self.rows,
        }


def _number(value):
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


def _cell(value):
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def percentile(values, fraction):
    """The nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def _target_label(target, with_district):
    label = _("%(measure)s · %(tier)s · %(year)s") % {
        "measure": target.get_measure_display(),
        "tier": target.get_tier_display(),
        "year": target.year,
    }
    return f"{target.district.name} · {label}" if with_district else label


def _target_line(target):
    """The value the progress line is drawn against: 100% of the due clusters for years, else the lower end."""
    if target.measure == PlanTarget.Measure.COUNT_AT_TIER:
        return int(target.low)
    if target.measure == PlanTarget.Measure.YEARS_TO_TIER:
        return Decimal("100.0")
    return target.low.quantize(Decimal("0.1"))


def progress_charts(targets, clusters, history, today, *, with_district):
    charts = []
    by_district = defaultdict(list)
    for cluster in clusters:
        by_district[cluster.district_id].append(cluster)
    for target in targets:
        days = year_ends(min(target.year - YEARS_BEFORE_TARGET, today.year), today.year, today)
        points = [progress_on(target, day, by_district[target.district_id], history) for day in days]
        unit = _("number") if target.measure == PlanTarget.Measure.COUNT_AT_TIER else "%"
        charts.append(
            Chart(
                id=f"progress-{target.pk}",
                title=_target_label(target, with_district),
                kind="line",
                x_label=_("Date"),
                labels=[day.isoformat() for day in days],
                series=[
                    Series(_("Progress (%(unit)s)") % {"unit": unit}, [p.value for p in points]),
                    Series(_("Target (%(unit)s)") % {"unit": unit}, [_target_line(target)] * len(points)),
                ],
                note=_("%(seed)s: “%(quote)s”") % {"seed": target.seed, "quote": target.quote},
            )
        )
    return charts


def tiers_chart(districts, clusters, history, today):
    counts = {d.pk: [0] * len(LADDER) for d in districts}
    for cluster in clusters:
        counts[cluster.district_id][tier_rank(history.valid_tier(cluster.pk, today))] += 1
    return Chart(
        id="tiers",
        title=_("Clusters by valid tier"),
        kind="bar",
        x_label=_("Tier"),
        labels=[Tier(t).label for t in LADDER],
        series=[Series(d.name, counts[d.pk]) for d in districts],
    )


def stages_chart(districts):
    """Applications now in each status, per district: one aggregate query."""
    counts = defaultdict(int)
    for row in (
        Application.objects.filter(cluster__district__in=districts)
        .values("cluster__district_id", "status")
        .order_by()
        .annotate(n=Count("id"))
    ):
        counts[(row["cluster__district_id"], row["status"])] = row["n"]
    statuses = list(Application.Status)
    return Chart(
        id="stages",
        title=_("Applications by stage"),
        kind="bar",
        x_label=_("Stage"),
        labels=[s.label for s in statuses],
        series=[Series(d.name, [counts[(d.pk, s.value)] for s in statuses]) for d in districts],
    )


def stage_durations(districts):
    """{status: [days, ...]} of every finished stay of an application in a status, from the audit trail.

    A stay starts at the audit row that moved the application into the status and ends at the next row that moved
    it into another one; a stay still running is not counted.
    """
    events = (
        AuditEvent.objects.filter(
            application__cluster__district__in=districts,
            object_type="certification.application",
            to_state__in=Application.Status.values,
        )
        .order_by("application_id", "at", "id")
        .values_list("application_id", "to_state", "at")
    )
    stays = defaultdict(list)
    previous = None
    for application_id, status, at in events:
        if previous and previous[0] == application_id and previous[1] != status:
            stays[previous[1]].append((at - previous[2]).total_seconds() / 86400)
        if not (previous and previous[0] == application_id and previous[1] == status):
            previous = (application_id, status, at)
    return stays


def durations_chart(districts):
    stays = stage_durations(districts)
    statuses = [s for s in Application.Status if s not in Application.CLOSED]
    return Chart(
        id="durations",
        title=_("Days spent in each stage"),
        kind="bar",
        x_label=_("Stage"),
        labels=[s.label for s in statuses],
        series=[
            Series(_("Median (days)"), [round(median(stays[s]), 1) if stays[s] else None for s in statuses]),
            Series(
                _("90th percentile (days)"),
                [round(percentile(stays[s], 0.9), 1) if stays[s] else None for s in statuses],
            ),
            Series(_("Stays counted"), [len(stays[s]) for s in statuses]),
        ],
        note=_("From the audit trail: finished stays only; the 90th percentile is the nearest-rank one."),
    )


def overdue_chart(districts, today, *, with_district):
    overdue = (
        CorrectionRequest.objects.filter(
            application__cluster__district__in=districts, resolved__isnull=True, deadline__lt=today
        )
        .exclude(application__status__in=Application.CLOSED)
        .select_related("application__cluster__district")
        .order_by("deadline", "pk")
    )
    labels, days, deadlines = [], [], []
    for correction in overdue:
        cluster = correction.application.cluster
        labels.append(f"{cluster.district.name} · {cluster.name}" if with_district else cluster.name)
        days.append((today - correction.deadline).days)
        deadlines.append(correction.deadline.isoformat())
    return Chart(
        id="overdue",
        title=_("Overdue corrections"),
        kind="bar",
        x_label=_("Cluster"),
        labels=labels,
        series=[Series(_("Days overdue"), days), Series(_("Deadline"), deadlines)],
    )


@dataclass
class Dashboard:
    title: str
    day: date
    charts: list

    def chart(self, chart_id):
        return next((c for c in self.charts if c.id == chart_id), None)

    def as_json(self):
        return {"title": self.title, "day": self.day.isoformat(), "charts": [c.as_json() for c in self.charts]}


def build_dashboard(title, districts, *, today=None, with_district=False):
    """The dashboard of `districts` (one for a district, every district of a city for the city).

    Queries: targets, clusters, tier changes, certificates, applications by status, audit rows, overdue
    corrections: seven, whatever the number of clusters and applications.
    """
    today = today or timezone.localdate()
    districts = list(districts)
    targets = targets_of(districts)
    clusters = district_clusters(districts)
    history = TierHistory(clusters)
    charts = [
        *progress_charts(targets, clusters, history, today, with_district=with_district),
        tiers_chart(districts, clusters, history, today),
        stages_chart(districts),
        durations_chart(districts),
        overdue_chart(districts, today, with_district=with_district),
    ]
    return Dashboard(title=title, day=today, charts=charts)


# ---------------------------------------------------------------------------------------------- who sees what


@dataclass(frozen=True)
class DashboardScope:
    """The regions whose dashboards a user may open: districts, cities, and cities whose evaluator analytics."""

    districts: frozenset
    cities: frozenset
    analytics_cities: frozenset

    @property
    def is_empty(self):
        return not (self.districts or self.cities)


def dashboard_scope(user):
    """One answer to "which dashboards may this user open", read from their active role grants (one query).

    District office and district leader: their district. City office and city leader: their city and each of its
    districts. Evaluator analytics: the city office only. Administrators: every region.
    """
    if not user.is_authenticated or not user.is_active:
        return DashboardScope(frozenset(), frozenset(), frozenset())
    # The site menu asks on every page; the answer is kept on the request's user object.
    cached = getattr(user, "_dashboard_scope", None)
    if cached is None:
        cached = user._dashboard_scope = _read_dashboard_scope(user)
    return cached


def _read_dashboard_scope(user):
    grants = active_grants(user)
    if user.is_superuser or any(g.role == Role.ADMINISTRATOR for g in grants):
        regions = list(Region.objects.all())
        return DashboardScope(
            frozenset(r.pk for r in regions if r.kind == Region.Kind.DISTRICT),
            frozenset(r.pk for r in regions if r.kind == Region.Kind.CITY),
            frozenset(),
        )
    districts, cities, analytics = set(), set(), set()
    city_ids = [grant.region_id for grant in grants if grant.role in (Role.CITY_OFFICE, Role.CITY_LEADER)]
    # A city's districts, read only for city grants (a district's people, the most numerous, need no second query).
    districts_of = defaultdict(set)
    if city_ids:
        for city_id, district_id in Region.objects.filter(parent_id__in=city_ids).values_list("parent_id", "pk"):
            districts_of[city_id].add(district_id)
    for grant in grants:
        if grant.role in (Role.DISTRICT_OFFICE, Role.DISTRICT_LEADER):
            districts.add(grant.region_id)
        elif grant.role in (Role.CITY_OFFICE, Role.CITY_LEADER):
            cities.add(grant.region_id)
            districts.update(districts_of[grant.region_id])
            if grant.role == Role.CITY_OFFICE:
                analytics.add(grant.region_id)
    return DashboardScope(frozenset(districts), frozenset(cities), frozenset(analytics))
