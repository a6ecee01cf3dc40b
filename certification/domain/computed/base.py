"""What every computation shares: the result types, the data versions' rows loaded once, and the registry."""

from dataclasses import dataclass, field
from fractions import Fraction
from math import isqrt
from operator import itemgetter

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
    behind: "Rows"  # the rows behind the figure, made into dicts when read
    detail: dict
    missing_data: str
    note: str = ""

    @property
    def rows(self):
        """Every row behind the figure, as dicts (the API; a page shows `behind.tables(…)`, a few of them)."""
        return self.behind.list()


class Rows:
    """The rows behind a figure, made into dicts only when they are read.

    A figure over a year's 8,000 rotations keeps their tuples as the database gave them; the page shows the first
    200 of each data set (`tables`), so 200 dicts are made, not 8,000 — and no teacher's rotations are merged
    beyond those shown. `list()` makes every one (the API, `ComputedResult.rows`), always the same dicts in the
    same order. Each part is a list of dicts, or a lazy part: `code` (its data set), `len()`, iteration and
    `head(n)`, its first n dicts (`Records`, `rotation.Teachers`).
    """

    def __init__(self, *parts):
        self.parts = parts
        self._list = None

    def list(self):
        if self._list is None:
            self._list = [row for part in self.parts for row in part]
        return self._list

    def __iter__(self):
        return iter(self.list())

    def __len__(self):
        return sum(len(part) for part in self.parts)

    def __eq__(self, other):
        if isinstance(other, Rows):
            other = other.list()
        return self.list() == other if isinstance(other, list) else NotImplemented

    __hash__ = None

    def __getstate__(self):
        # The tuples travel (to the cache), not the dicts made from them.
        return {"parts": self.parts, "_list": None}

    def tables(self, limit):
        """[(data set code, its first `limit` rows as dicts, how many it has)], in order of first appearance; a
        row of no data set (a tier history) is under ""."""
        groups = {}
        for part in self.parts:
            if isinstance(part, list):
                for row in part:
                    shown, count = groups.setdefault(row.get("dataset", ""), ([], [0]))
                    count[0] += 1
                    if len(shown) < limit:
                        shown.append(row)
                continue
            size = len(part)
            if size:
                shown, count = groups.setdefault(part.code, ([], [0]))
                count[0] += size
                if len(shown) < limit:
                    shown += part.head(limit - len(shown))
        return [(code, shown, count) for code, (shown, [count]) in groups.items()]


class Shape:
    """How a data version's row tuples (the sheet's row number, then the data set's fields) read as dicts: the
    fields by name, a school column's id as `<key>_pk` and its name as `<key>`, a list of schools as their names
    joined, then "dataset" and "import_id". `at` gives a field's place in the tuple, for computations that read
    tuples (rotation, shared courses: thousands of rows a figure counts and a page shows 200 of)."""

    def __init__(self, dataset, import_id, names):
        schools = [column for column in dataset.columns if column.kind == "school"]
        renamed = {column.model_field: f"{column.key}_pk" for column in schools}
        self.code = dataset.code
        fields = ("row", *(renamed.get(name, name) for name in dataset.fields))
        self.at = {key: place for place, key in enumerate(fields)}
        self.keys = (*fields, "dataset", "import_id")
        self.tail = (dataset.code, import_id)
        self.named = [(f"{column.key}_pk", column.key) for column in schools]
        self.listed = [(column.model_field, column.key) for column in dataset.columns if column.kind == "schools"]
        self.names = names  # a school's name is never empty; a school outside the cluster shows its id
        self._joined = {}  # the same participants recur on many rows: their names are joined once

    def row(self, record):
        row = dict(zip(self.keys, (*record, *self.tail), strict=True))
        for pk_key, key in self.named:
            pk = row[pk_key]
            row[key] = self.names.get(pk) or str(pk)
        for field_name, key in self.listed:
            pks = tuple(row[field_name])
            text = self._joined.get(pks)
            if text is None:
                text = self._joined[pks] = "、".join(self.names.get(pk) or str(pk) for pk in pks)
            row[key] = text
        return row


class Records:
    """Rows of one data version, in the order given, made into dicts when read (a lazy part of `Rows`)."""

    def __init__(self, shape, records):
        self.shape = shape
        self.records = records

    @property
    def code(self):
        return self.shape.code

    def __len__(self):
        return len(self.records)

    def __iter__(self):
        return map(self.shape.row, self.records)

    def head(self, count):
        return [self.shape.row(record) for record in self.records[:count]]


@dataclass
class Measure:
    """What a metric function found. `exact` stands in for `value` in the comparison when the value is irrational."""

    value: Fraction | None = None
    rows: "list | Rows" = field(default_factory=list)  # dicts, or `Rows` of tuples made into dicts when read
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
    """The rows of a chosen set of data versions, loaded once per data set as tuples, and the cluster's schools.

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
        self._shapes = {}
        self._rows = {}
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

    def records(self, dataset):
        """The rows of `dataset` of the years metrics read (`YEARS_BEFORE_LATEST`) as the database's tuples, in sheet
        order (`shape(dataset).at` names their places); [] when nothing is imported."""
        self.read.add(dataset)
        records = self._cache.get(dataset)
        if records is None:
            records = self._cache[dataset] = self._load(DATASETS[dataset]) if dataset in self.imports else []
        return records

    def shape(self, dataset):
        """How the tuples of `dataset` read as dicts (`Shape`); the data set must be imported."""
        shape = self._shapes.get(dataset)
        if shape is None:
            shape = self._shapes[dataset] = Shape(DATASETS[dataset], self.imports[dataset].pk, self.names)
        return shape

    def rows(self, dataset):
        """The rows of `records(dataset)` as dicts (`Shape.row`), made once; for the small data sets a metric reads
        by name (the large ones are read as tuples and shown through `Rows`)."""
        rows = self._rows.get(dataset)
        if rows is None:
            records = self.records(dataset)
            rows = self._rows[dataset] = list(map(self.shape(dataset).row, records)) if records else []
        return rows

    def by_year(self, dataset):
        """{school year: its rows of `dataset` as dicts, in sheet order}, split once for every metric that reads a
        year.

        Only the years metrics read are loaded (`YEARS_BEFORE_LATEST`); asking for an earlier one is a mistake in
        the metric, never "no data", and raises ImproperlyConfigured.
        """
        years = self._years.get(dataset)
        if years is None:
            years = self._years[dataset] = _Years(_split(self.rows(dataset), "year"), dataset)
        return years

    def records_by_year(self, dataset):
        """`by_year` of the tuples (`records`): {school year: its rows, in sheet order}."""
        key = ("records", dataset)
        years = self._years.get(key)
        if years is None:
            years = self._years[key] = _Years(_split(self.records(dataset), YEAR), dataset)
        return years

    def _load(self, dataset):
        """The rows' tuples: the sheet's row number, then the fields the data set declares.

        Nothing is made per row: a dict (`Shape.row`) and a label such as "sheet, row N" (`source_label`) are made
        only for the rows shown, never for each of 50,000 (bench/computed.py).
        """
        version = self.imports[dataset.code]
        if self._records is not None:
            return self._records.get(version.pk, [])
        # The years the metrics read, counted back from the version's latest (one query, the latest a subquery).
        rows = dataset.model.objects.filter(dataset_import=version)
        latest = rows.values("dataset_import").annotate(latest=Max("year")).values("latest")
        back = YEARS_BEFORE_LATEST.get(dataset.code, 0)
        return list(
            rows.filter(year__gte=Subquery(latest) - back if back else Subquery(latest))
            .order_by("row_number")
            .values_list("row_number", *dataset.fields)
        )


# Every data set's first field is its school year (`Dataset.fields`), after the row number.
YEAR = 1


def _split(rows, year_key):
    """{year: rows of that year, in order}."""
    if len(set(map(itemgetter(year_key), rows))) == 1:  # a data set whose metrics read its latest year only
        return {rows[0][year_key]: rows}
    years = {}
    for row in rows:
        year = row[year_key]
        if year in years:
            years[year].append(row)
        else:
            years[year] = [row]
    return years


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


def require(data, dataset):
    """Raises Unmeasured, naming the data set, when nothing of `dataset` is imported; counts it as read."""
    data.records(dataset)
    if dataset not in data.imports:
        raise Unmeasured(Measure(missing=_missing(dataset)))


def imported(data, dataset):
    """The current rows of `dataset` as dicts; raises Unmeasured, naming the data set, when nothing is imported."""
    require(data, dataset)
    return data.rows(dataset)


def latest_year(data, dataset):
    """(the latest school year in `dataset`, its rows of that year as dicts); raises Unmeasured when nothing is
    imported."""
    require(data, dataset)
    years = data.by_year(dataset)
    year = max(years, default=None)
    return year, years.get(year, [])


def latest_records(data, dataset):
    """`latest_year` as tuples (`ClusterData.records`): (the latest school year, its rows of that year)."""
    require(data, dataset)
    years = data.records_by_year(dataset)
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
