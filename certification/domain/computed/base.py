"""What every computation shares: the result types, the data versions' rows loaded once, and the registry."""

from dataclasses import dataclass, field
from fractions import Fraction
from math import isqrt

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Max, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.datasets import DATASETS
from certification.metrics import METRICS
from certification.models import ClusterMembership, Indicator, School, Stage, TierChange

KINDERGARTEN, JUNIOR = Stage.KINDERGARTEN.value, Stage.JUNIOR.value
# The 学段 a cluster may span (a nine-year school spans two); rotation between them is cross-stage.
SCHOOL_STAGES = (Stage.KINDERGARTEN, Stage.PRIMARY, Stage.JUNIOR, Stage.SENIOR)
STAGE_LABELS = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "senior": "高中"}


@dataclass(frozen=True)
class ComputedResult:
    indicator: Indicator
    value: Fraction | None
    not_applicable: bool
    passed: bool | None
    display: str
    threshold_display: str
    rows: list
    detail: dict
    missing_data: str
    note: str = ""


@dataclass
class Measure:
    """What a metric function found. `exact` stands in for `value` in the comparison when the value is irrational."""

    value: Fraction | None = None
    rows: list = field(default_factory=list)
    detail: dict = field(default_factory=dict)
    missing: str = ""
    nothing_to_measure: str = ""  # why the metric is N/A for this cluster
    exact: object = None
    note: str = ""  # what a reader must know to read the value right (e.g. why it is 0%)


class Unmeasured(Exception):
    """Raised by a computation's shared first steps when there is nothing to compute; carries the Measure to show."""

    def __init__(self, measure):
        super().__init__(measure.missing or measure.nothing_to_measure)
        self.measure = measure


class SquareRoot:
    """√q for a Fraction q ≥ 0, compared exactly with Fractions: √q < t ⇔ q < t² for t ≥ 0."""

    def __init__(self, square):
        self.square = square

    def _key(self, other):
        other = Fraction(other)
        return (other < 0, other * other)

    def __lt__(self, other):
        negative, squared = self._key(other)
        return not negative and self.square < squared

    def __le__(self, other):
        negative, squared = self._key(other)
        return not negative and self.square <= squared

    def __gt__(self, other):
        negative, squared = self._key(other)
        return negative or self.square > squared

    def __ge__(self, other):
        negative, squared = self._key(other)
        return negative or self.square >= squared


def _approx_sqrt(square, places=12):
    """√square rounded half-up to `places` decimals, as a Fraction. Only for showing: comparisons use SquareRoot."""
    scaled = square * 10 ** (2 * places)
    root = isqrt(scaled.numerator // scaled.denominator)
    if 4 * scaled >= (2 * root + 1) ** 2:  # √scaled ≥ root + ½
        root += 1
    return Fraction(root, 10**places)


def _percent(decimal_value):
    return Fraction(decimal_value) / 100


COMPUTATIONS = {}

# The school years a metric reads: the latest one of its data set and, for the data sets below, as many years
# before it (a growth or an improvement compares with last year). Earlier rows are never loaded: a version may hold
# five years of a 40,000-row roster when the figures read one of them (bench/computed.py). `ClusterData.by_year`
# refuses a year outside this window, so a metric that starts comparing further back says so here first.
YEARS_BEFORE_LATEST = {"shared_courses": 1, "academic_results": 1}


def computes(function):
    """Register `function` as the computation of the metric it is named after (one registry: `METRICS`)."""
    if function.__name__ not in METRICS:
        raise ImproperlyConfigured(f"{function.__name__} computes no metric of certification.metrics")
    COMPUTATIONS[function.__name__] = function
    return function


class ClusterData:
    """The rows of a chosen set of data versions, loaded once per data set as dicts, and the cluster's schools.

    `imports` is {data set code: DatasetImport}: an application's pinned versions, or the latest versions of a
    cluster's school year (the self-check). `on` is the day tier durations are measured to. A list page computing
    many clusters at once passes what it has loaded in bulk: `memberships` (with schools), `tier_changes` (ordered
    by effective date) and `records` ({import id: [row tuples]}, as `load_records` gives them).
    """

    application = None

    def __init__(self, cluster, imports, *, on, memberships=None, tier_changes=None, records=None):
        self.cluster = cluster
        self.on = on
        if memberships is None:
            memberships = list(ClusterMembership.objects.filter(cluster=cluster).select_related("school"))
        self.members = [membership.school for membership in memberships]
        # Community schools (社区学校, seed 003) are members without pupils or teachers of their own to count.
        self.schools = [school for school in self.members if school.kind != School.Kind.COMMUNITY]
        self.lead_ids = {m.school_id for m in memberships if m.role in ClusterMembership.LEAD_ROLES}
        self.names = {school.pk: school.name for school in self.members}
        self.imports = dict(imports)
        self._tier_changes = tier_changes
        self._records = records
        self._cache = {}
        self._years = {}
        self.memo = {}  # what computations over the same rows share (certification.domain.computed.rotation)
        self.read = set()  # the data sets read so far: a computation reads only those its metric declares

    @property
    def tier_changes(self):
        if self._tier_changes is None:
            self._tier_changes = list(TierChange.objects.filter(cluster=self.cluster).order_by("effective", "id"))
        return self._tier_changes

    def teaching(self, stage):
        return [school for school in self.members if school.teaches(stage)]

    @property
    def weak_ids(self):
        return {school.pk for school in self.members if school.is_relatively_weak}

    def name(self, school_id):
        name = self.names.get(school_id)
        return str(school_id) if name is None else name

    def rows(self, dataset):
        """The rows of `dataset` of the years metrics read (`YEARS_BEFORE_LATEST`) as dicts, shared between results;
        [] when nothing is imported."""
        self.read.add(dataset)
        if dataset not in self._cache:
            self._cache[dataset] = self._load(DATASETS[dataset]) if dataset in self.imports else []
        return self._cache[dataset]

    def by_year(self, dataset):
        """{school year: its rows of `dataset`, in sheet order}, sorted once for every metric that reads a year.

        Only the years metrics read are loaded (`YEARS_BEFORE_LATEST`); asking for an earlier one is a mistake in
        the metric, never "no data", and raises ImproperlyConfigured.
        """
        years = self._years.get(dataset)
        if years is None:
            years = {}
            for row in self.rows(dataset):
                year = row["year"]
                if year in years:
                    years[year].append(row)
                else:
                    years[year] = [row]
            years = self._years[dataset] = _Years(years, dataset)
        return years

    def _load(self, dataset):
        """The rows with the fields the data set declares; a school column gives its name and `<key>_pk`.

        One dict per row, built straight from the database's tuples: the sheet's row number (`row`) is all a row
        carries of where it came from; a label such as "sheet, row N" is made only for the few rows shown
        (`source_label`), never for each of 50,000 (bench/computed.py).
        """
        version = self.imports[dataset.code]
        if self._records is not None:
            records = self._records.get(version.pk, [])
        else:
            # The years the metrics read, counted back from the version's latest (one query, the latest a subquery).
            rows = dataset.model.objects.filter(dataset_import=version)
            latest = rows.values("dataset_import").annotate(latest=Max("year")).values("latest")
            back = YEARS_BEFORE_LATEST.get(dataset.code, 0)
            records = (
                rows.filter(year__gte=Subquery(latest) - back if back else Subquery(latest))
                .order_by("row_number")
                .values_list("row_number", *dataset.fields)
            )
        schools = [column for column in dataset.columns if column.kind == "school"]
        renamed = {column.model_field: f"{column.key}_pk" for column in schools}
        keys = ("row", *(renamed.get(name, name) for name in dataset.fields), "dataset", "import_id")
        tail = (dataset.code, version.pk)
        named = [(f"{column.key}_pk", column.key) for column in schools]
        listed = [(column.model_field, column.key) for column in dataset.columns if column.kind == "schools"]
        name = self.names.get  # a school's name is never empty; a school outside the cluster shows its id
        joined = {}  # the same participants recur on many rows: their names are joined once
        rows = []
        append = rows.append
        for record in records:
            row = dict(zip(keys, (*record, *tail), strict=True))
            for pk_key, key in named:
                row[key] = name(row[pk_key]) or str(row[pk_key])
            for field_name, key in listed:
                pks = tuple(row[field_name])
                text = joined.get(pks)
                if text is None:
                    text = joined[pks] = "、".join(self.name(pk) for pk in pks)
                row[key] = text
            append(row)
        return rows


class _Years(dict):
    """{school year: rows} of the years loaded; a year before them was never loaded, so asking for it raises."""

    def __init__(self, years, dataset):
        super().__init__(years)
        self.dataset = dataset
        self.first = max(years, default=0) - YEARS_BEFORE_LATEST.get(dataset, 0)

    def _check(self, year):
        if year < self.first:
            raise ImproperlyConfigured(
                f"{self.dataset} rows of {year} are not loaded: add the years a metric reads to YEARS_BEFORE_LATEST"
            )

    def get(self, year, default=None):
        self._check(year)
        return super().get(year, default)

    def __getitem__(self, year):
        self._check(year)
        return super().__getitem__(year)


def source_label(row):
    """Where a data set row comes from, as a person reads it: "<sheet>, row N"."""
    return _("%(sheet)s, row %(row)s") % {"sheet": DATASETS[row["dataset"]].title, "row": row["row"]}


class ApplicationData(ClusterData):
    """The application's pinned data versions and its cluster; tier durations are measured to its opening."""

    def __init__(self, application):
        imports = {item.dataset: item for item in application.data_versions.order_by("dataset", "id")}
        super().__init__(application.cluster, imports, on=timezone.localtime(application.created).date())
        self.application = application


def load_records(imports):
    """{import id: [(row number, *the data set's fields)]} for every version in `imports` (DatasetImport objects),
    two queries per data set: each version's latest year, then its rows of the years metrics read
    (`YEARS_BEFORE_LATEST`)."""
    by_dataset = {}
    for item in imports:
        by_dataset.setdefault(item.dataset, []).append(item.pk)
    records = {}
    for code, ids in by_dataset.items():
        dataset = DATASETS[code]
        back = YEARS_BEFORE_LATEST.get(code, 0)
        chosen = dataset.model.objects.filter(dataset_import_id__in=ids)
        firsts = {}
        for import_id, latest in (
            chosen.values("dataset_import_id").annotate(latest=Max("year")).values_list("dataset_import_id", "latest")
        ):
            firsts.setdefault(latest - back, []).append(import_id)
        if not firsts:
            continue
        read = Q()
        for first, first_ids in firsts.items():
            read |= Q(dataset_import_id__in=first_ids, year__gte=first)
        rows = (
            chosen.filter(read)
            .order_by("dataset_import_id", "row_number")
            .values_list("dataset_import_id", "row_number", *dataset.fields)
        )
        for import_id, *row in rows:
            records.setdefault(import_id, []).append(row)
    return records


def _missing(dataset):
    return _("No “%(dataset)s” data has been imported.") % {"dataset": DATASETS[dataset].title}


def imported(data, dataset):
    """The current rows of `dataset`; raises Unmeasured, naming the data set, when nothing is imported."""
    rows = data.rows(dataset)
    if dataset not in data.imports:
        raise Unmeasured(Measure(missing=_missing(dataset)))
    return rows


def latest_year(data, dataset):
    """(the latest school year in `dataset`, its rows of that year); raises Unmeasured when nothing is imported."""
    imported(data, dataset)
    years = data.by_year(dataset)
    year = max(years, default=None)
    return year, years.get(year, [])


def _missing_schools(data, rows, dataset, year, schools=None):
    """A message naming the schools with no row in `year`, or ""."""
    present = {row["school_pk"] for row in rows if row["year"] == year}
    absent = [school.name for school in (schools if schools is not None else data.schools) if school.pk not in present]
    if not absent:
        return ""
    return _("“%(dataset)s” has no row for %(year)s for: %(schools)s.") % {
        "dataset": DATASETS[dataset].title,
        "year": year,
        "schools": "、".join(absent),
    }


def _ratio_detail(year, numerator, denominator, **extra):
    return {"year": year, "numerator": numerator, "denominator": denominator, **extra}
