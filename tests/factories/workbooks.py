"""Rows of filled data set workbooks, in the template's column order, and the whole path a figure takes:
the lead imports the workbooks, the computed indicators are worked out, an evaluator submits the pre-filled
score sheet and the panel's scores are aggregated into the application's total and verdict."""

import datetime

from certification.domain.aggregation import aggregate
from certification.domain.computed import compute_indicators
from certification.domain.datasets import start_import
from certification.domain.scoring import get_or_create_sheet, submit_sheet
from certification.models import Application, ClusterMembership, DatasetImport, IndicatorResult

from .datasets import data_application, data_cluster, lead, workbook_bytes, xlsx_upload
from .scoring import panel

LEAD = ClusterMembership.Role.LEAD
START = datetime.datetime(2025, 9, 1)
SPRING = datetime.datetime(2026, 2, 16)  # still the 2025 school year


def mixed_cluster():
    """甲校 (nine-year, the core school), 乙校 and 丙校 (primary members): a cluster that spans two 学段."""
    return data_cluster(("甲校", ["nine_year"], LEAD), ("乙校", ["primary"]), ("丙校", ["primary"]))


def primary_cluster():
    """Three primary schools: a cluster of one 学段 only."""
    return data_cluster(("甲校", ["primary"], LEAD), ("乙校", ["primary"]), ("丙校", ["primary"]))


def roster(teacher, source="乙校", target="丙校", *, stages=("小学", "小学"), backbone=False, start=START, term=3):
    return [teacher, source, target, *stages, "是" if backbone else "否", start, term]


def team(prefix, count, source="乙校", target="丙校", *, backbone=0, **fields):
    """`count` teachers rotating from `source` to `target`, the first `backbone` of them backbone teachers."""
    return [roster(f"{prefix}{n:03d}", source, target, backbone=n < backbone, **fields) for n in range(count)]


def eligible(counts, year=2025):
    return [[school, year, teachers] for school, teachers in counts.items()]


def course(name, semester, provider="甲校", participants="乙校、丙校", *, students=50, high_quality=False):
    return [name, provider, semester, participants, students, "是" if high_quality else "否", None, None]


def results(school, stage, *, passed, tested=100, enrolled=None, mean=80, district=97, year=2025):
    return [school, stage, year, tested if enrolled is None else enrolled, tested, mean, passed, district]


def survey(group, respondents, satisfied, year=2025):
    return [group, year, respondents, satisfied]


def import_workbook(application, code, rows, capture):
    """Import `rows` as the cluster's lead through the upload path; the finished import."""
    with capture(execute=True):
        dataset_import = start_import(
            application, code, xlsx_upload(workbook_bytes(code, rows)), by=lead(application.cluster)
        )
    dataset_import.refresh_from_db()
    return dataset_import


def compute_one(application):
    """The computed result of the application's only computed indicator."""
    (result,) = compute_indicators(application).values()
    return result


def through_the_path(cluster, standard, workbooks, capture):
    """(computed results by code, indicator results by code, application) after importing `workbooks`
    ({data set: rows}), one evaluator submitting the pre-filled sheet, and aggregation."""
    application = data_application(cluster, standard)
    for code, rows in workbooks.items():
        dataset_import = import_workbook(application, code, rows, capture)
        assert dataset_import.status == DatasetImport.Status.DONE, dataset_import.errors
    computed = {result.indicator.code: result for result in compute_indicators(application).values()}
    Application.objects.filter(pk=application.pk).update(status=Application.Status.SCORING)
    (assignment,) = panel(application, 1)
    submit_sheet(get_or_create_sheet(assignment), by=assignment.evaluator)
    aggregate(application)
    application.refresh_from_db()
    indicator_results = {
        result.indicator.code: result
        for result in IndicatorResult.objects.filter(application=application).select_related("indicator")
    }
    return computed, indicator_results, application
