"""The self-check before applying (issue 13 item 7): what a cluster's data for a school year say about the next tier.

For one cluster (the lead's self-check page) or a page of clusters (the office's readiness table) the same function
`readiness` reads, in a constant number of queries whatever the number of clusters: the held tier and the next one,
the standard in force for it, the latest data versions of the school year, and it computes every computed indicator
of that standard with `computed.compute_for` over those versions — the code an application runs over the versions it
pins, so an application opened on the same versions shows the same figures. It also lists the evidence items still
missing. Nothing is written: no application, no audit row.

"Could apply now" follows the rules of `eligibility.check_eligibility` (next tier above the held one, no open
application, a standard in force) on data read in bulk, with the messages eligibility words; a test holds the two
together.
"""

from dataclasses import dataclass, field

from django.db.models import prefetch_related_objects
from django.utils import timezone

from certification.datasets import DATASETS
from certification.metrics import METRICS
from certification.models import (
    Application,
    ClusterMembership,
    EvidenceFile,
    EvidenceRequirement,
    Standard,
    Tier,
    TierChange,
    holding,
)
from certification.models.tier import next_tier

from . import computed
from .datasets import latest_versions_of_clusters
from .eligibility import city_model_years_refusal, highest_tier_refusal, no_standard_refusal, open_application_refusal


@dataclass
class Readiness:
    """What one cluster's data for `school_year` say about the tier above the one it holds."""

    cluster: object
    school_year: int
    held: Tier
    target: Tier | None
    standard: object  # the Standard in force for `target`, or None
    refusal: str  # why the cluster may not open an application now ("" when it may)
    versions: dict = field(default_factory=dict)  # {data set code: DatasetImport}, the latest of the year
    results: list = field(default_factory=list)  # ComputedResult of every computed indicator, in order
    missing_data: list = field(default_factory=list)  # Dataset the standard reads with no version for the year
    missing_evidence: list = field(default_factory=list)  # required EvidenceRequirement with nothing to show yet

    @property
    def met(self):
        return sum(1 for result in self.results if result.passed is True or result.not_applicable)

    @property
    def not_met(self):
        return sum(1 for result in self.results if result.passed is False)

    @property
    def unknown(self):
        return sum(1 for result in self.results if result.passed is None and not result.not_applicable)

    @property
    def ready(self):
        """May open an application now and every computed indicator of the next tier is met (or N/A)."""
        return not self.refusal and self.standard is not None and not self.not_met and not self.unknown

    @property
    def version_ids(self):
        """The data versions the figures come from (the key a cache of computed indicators would use)."""
        return sorted(item.pk for item in self.versions.values())


def school_year_now(today=None):
    """The school year whose data an application opened today reads (assessment year − 1; see
    `certification.models.dataset.data_school_year`)."""
    return (today or timezone.localdate()).year - 1


def held_tier(cluster, on=None):
    """The tier the cluster holds on `on` (default today), derived from its certificates and tier history by the rule
    eligibility uses (`certification.models.holding`); reads the prefetched rows `readiness` loads."""
    return holding.tier_on(cluster, on)


def _datasets_read(indicator):
    metric = METRICS.get(indicator.metric)
    return metric.datasets if metric is not None else ()


def _refusal(cluster, held, target, open_application, standard, on):
    """The message `check_eligibility` raises for the same facts, or ""."""
    if target is None:
        return highest_tier_refusal(cluster, held)
    if target == Tier.CITY_MODEL:
        refusal = city_model_years_refusal(cluster, on)
        if refusal:
            return refusal
    if open_application is not None:
        return open_application_refusal(cluster, open_application)
    if standard is None:
        return no_standard_refusal(target)
    return ""


def readiness(clusters, school_year, *, on=None):
    """[Readiness] for `clusters` (a list, e.g. one page of a district's clusters) and `school_year`.

    Constant queries: standards in force (one per tier asked for), their computed indicators and evidence
    requirements, memberships, tier changes, open applications, reusable evidence, the latest versions, and their
    rows (one query per data set). `on` is the day tier durations are measured to (today: an application opened now).
    """
    clusters = list(clusters)
    on = on or timezone.localdate()
    ids = [cluster.pk for cluster in clusters]
    targets = {}
    prefetch_related_objects(clusters, "certificates", "tier_history")
    for cluster in clusters:
        held = held_tier(cluster, on)
        targets[cluster.pk] = (held, next_tier(held))
    wanted = {target for _held, target in targets.values() if target is not None}
    standards = {tier: Standard.objects.in_force(tier) for tier in sorted(wanted)}
    indicators = {tier: computed.computed_indicators_of(s) for tier, s in standards.items() if s is not None}
    requirements = {
        tier: list(
            EvidenceRequirement.objects.filter(indicator__dimension__standard=s, required=True)
            .select_related("indicator")
            .order_by("indicator__dimension__order", "indicator__order", "indicator__code", "code")
        )
        for tier, s in standards.items()
        if s is not None
    }
    memberships = {pk: [] for pk in ids}
    for membership in ClusterMembership.objects.filter(cluster_id__in=ids).select_related("school").order_by("pk"):
        memberships[membership.cluster_id].append(membership)
    changes = {pk: [] for pk in ids}
    for change in TierChange.objects.filter(cluster_id__in=ids).order_by("effective", "id"):
        changes[change.cluster_id].append(change)
    open_applications = {item.cluster_id: item for item in Application.objects.open().filter(cluster_id__in=ids)}
    # Evidence a new application may reuse (`evidence.reuse_evidence`): current files of certified applications.
    reusable = set(
        EvidenceFile.objects.current()
        .filter(application__cluster_id__in=ids, application__status=Application.Status.CERTIFIED)
        .values_list("application__cluster_id", "requirement__code")
    )
    versions = latest_versions_of_clusters(ids, school_year)
    records = computed.load_records([item for found in versions.values() for item in found.values()])

    checks = []
    for cluster in clusters:
        held, target = targets[cluster.pk]
        standard = standards.get(target) if target is not None else None
        check = Readiness(
            cluster=cluster,
            school_year=school_year,
            held=held,
            target=target,
            standard=standard,
            refusal=_refusal(cluster, held, target, open_applications.get(cluster.pk), standard, on),
            versions=versions[cluster.pk],
        )
        if standard is not None:
            data = computed.ClusterData(
                cluster,
                check.versions,
                on=on,
                memberships=memberships[cluster.pk],
                tier_changes=changes[cluster.pk],
                records=records,
            )
            check.results = list(computed.compute_for(indicators[target], data).values())
            read = {code for indicator in indicators[target] for code in _datasets_read(indicator)}
            check.missing_data = [
                dataset for code, dataset in DATASETS.items() if code in read and code not in check.versions
            ]
            check.missing_evidence = [
                requirement
                for requirement in requirements[target]
                if (requirement.dataset and requirement.dataset not in check.versions)
                or (not requirement.dataset and (cluster.pk, requirement.code) not in reusable)
            ]
        checks.append(check)
    return checks


def self_check(cluster, school_year, *, on=None):
    """The Readiness of one cluster (the lead's self-check page)."""
    return readiness([cluster], school_year, on=on)[0]


def recent_school_years(today=None, count=3):
    """The school years a self-check may look at: this one's data year and the two before, newest first."""
    latest = school_year_now(today)
    return [latest - offset for offset in range(count)]


def year_choice(value, today=None):
    """The school year asked for in a query string, or this year's when absent or not one of `recent_school_years`."""
    years = recent_school_years(today)
    try:
        year = int(value)
    except (TypeError, ValueError):
        return years[0]
    return year if year in years else years[0]
