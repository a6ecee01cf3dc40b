"""Benchmark: every computed indicator of an application over 50,000 imported rows, next to a bare load of those rows.

"ours" is `compute_indicators(application)` as the computed-indicators page runs it on a cache miss: one indicator
per metric of `certification.metrics` (all 27), reading the data versions the application pins — 40,000 rotation
records over five school years, 9,900-odd shared courses and the small per-school sheets, 50,000 rows in all.
"load" is the floor under it: the rows the computation reads (the school years its metrics measure, about 12,000 of
the 50,000) from the same database with `values_list` (the fields it reads, in sheet order), into lists and nothing
more. The issue's goal: at most 1.5× that load.

The cluster has a lead nine-year school, two primary schools (one relatively weak), a junior school and a
kindergarten, so that no metric is N/A and every one computes over its rows. ``python -m bench.abab bench.computed``
alternates the two cases in fresh processes (see bench/abab.py). Uses a throw-away SQLite test database.
"""

import datetime
import os
from decimal import Decimal

from bench import setup_database

ROWS = int(os.environ.get("BENCH_COMPUTED_ROWS", "50000"))
ROTATIONS = ROWS * 4 // 5
CASES = ["ours", "load"]
GOAL = 1.5  # issue 11: computing every indicator at most 1.5× a bare load of the same rows
YEARS = (2021, 2022, 2023, 2024, 2025)
SCHOOLS = [
    ("甲校", ["nine_year"], "lead", False),
    ("乙校", ["primary"], "member", False),
    ("丙校", ["primary"], "member", True),
    ("丁校", ["junior"], "member", True),
    ("戊园", ["kindergarten"], "member", False),
]
TESTED = [("甲校", "junior"), ("丁校", "junior"), ("乙校", "primary"), ("丙校", "primary"), ("甲校", "primary")]
STAGES = {"甲校": "junior", "乙校": "primary", "丙校": "primary", "丁校": "junior", "戊园": "kindergarten"}


def _application():
    """An application pinning one version of every data set, ROWS rows in all."""
    from certification.metrics import METRICS
    from tests.factories.datasets import computed_standard, data_application, data_cluster, load_rows

    cluster = data_cluster(*SCHOOLS)
    schools = {school.name: school for school in cluster.schools.all()}
    names = list(schools)
    standard = computed_standard(*((code, "gte", "0", True) for code in METRICS))
    application = data_application(cluster, standard)
    small = {
        "eligible_teachers": [
            {"school": school, "year": year, "teachers": 20000} for year in YEARS for school in schools.values()
        ],
        "school_stats": [
            {
                "school": school,
                "year": year,
                "students": 1200,
                "teachers": 90,
                "teachers_in_cluster_work": 80,
                "students_covered": 1100,
            }
            for year in YEARS
            for school in schools.values()
        ],
        "academic_results": [
            {
                "school": schools[name],
                "year": year,
                "stage": stage,
                "enrolled": 300,
                "students": 300,
                "mean_score": Decimal("78.5") + index,
                "passed": 270 - index,
                "district_pass_share": Decimal("85.00"),
            }
            for year in YEARS
            for index, (name, stage) in enumerate(TESTED)
        ],
        "enrolment": [
            {
                "school": schools[name],
                "year": year,
                "graduates": 280,
                "quota_plan": 40,
                "quota_filled": 38,
                "quality_entry_rate": Decimal("62.50"),
                "district_quality_entry_rate": Decimal("55.00"),
            }
            for year in YEARS
            for name in ("甲校", "丁校")
        ],
        "satisfaction": [
            {"year": year, "group": group, "respondents": 500, "satisfied": 460}
            for year in YEARS
            for group in ("parents", "teachers", "everyone")
        ],
    }
    courses = ROWS - ROTATIONS - sum(len(rows) for rows in small.values())
    rotation = []
    for number in range(ROTATIONS):
        source, target = names[number % 5], names[(number + 1 + number // 5 % 4) % 5]  # every pair, every year
        start = datetime.date(YEARS[number // 20 % 5], 9, 1)
        rotation.append(
            {
                "teacher": f"T{number % (ROTATIONS * 3 // 4):06d}",  # a quarter of the teachers rotate twice
                "from_school": schools[source],
                "to_school": schools[target],
                "from_stage": STAGES[source],
                "to_stage": STAGES[target],
                "backbone": number % 4 == 0,
                "start_date": start,
                "term_years": Decimal((1, 2, 3, "3.5")[number % 4]),
                "year": start.year,
            }
        )
    shared = [
        {
            "course": f"共享课程{number // 10:05d}",
            "provider": schools[names[number % 5]],
            "semester": f"{YEARS[number // 10 % 5]}-{1 + number // 5 % 2}",
            "year": YEARS[number // 10 % 5],
            "participant_ids": [schools[name].pk for name in names],
            "students": 40,
            "high_quality": number % 3 == 0,
            "grade_students": 120,
            "grades": "七年级",
        }
        for number in range(courses)
    ]
    for code, rows in (("rotation", rotation), ("shared_courses", shared), *small.items()):
        load_rows(application, code, rows)
    return application


def _compute(application):
    from certification.domain.computed import compute_indicators

    results = compute_indicators(application)
    missing = {result.indicator.metric: result.missing_data for result in results.values() if result.value is None}
    if missing:
        raise SystemExit(f"indicators without a value: {missing}")
    return results


def _load(application):
    """The rows the computation reads, loaded and nothing else: the floor under any computation over them.

    The computation reads only the school years its metrics measure (the latest, and the year before for shared
    courses and academic results: `YEARS_BEFORE_LATEST`), so the floor loads those rows, not the version's older
    years: a ratio against rows it never reads would flatter it. The label gives both counts."""
    from django.db.models import Max

    from certification.datasets import DATASETS
    from certification.domain.computed.base import YEARS_BEFORE_LATEST

    loaded = []
    for version in application.data_versions.order_by("dataset", "id"):
        dataset = DATASETS[version.dataset]
        rows = dataset.model.objects.filter(dataset_import=version)
        latest = rows.aggregate(latest=Max("year"))["latest"]
        loaded += list(
            rows.filter(year__gte=latest - YEARS_BEFORE_LATEST.get(dataset.code, 0))
            .order_by("row_number")
            .values_list("dataset_import_id", "row_number", *dataset.fields)
        )
    return loaded


def _read_rows(application):
    """How many rows the computation reads of the version's ROWS."""
    return len(_load(application))


def run_case(case):
    from django.utils import translation

    from bench.abab import timed

    setup_database()
    application = _application()
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The planner's statistics, as autovacuum keeps them in production (bench.queues does the same).
            cursor.execute("ANALYZE")
    with translation.override("zh-hans"):
        read = _read_rows(application)
        if case == "ours":
            seconds, cpu, peak = timed(_compute, application)
            label = f"compute every indicator (one per metric): {read:,} rows read of {ROWS:,}"
        else:
            seconds, cpu, peak = timed(_load, application)
            label = f"bare load (values_list) of the same {read:,} rows"
    return {"label": label, "seconds": seconds, "cpu": cpu, "peak": peak, "rows": ROWS}
