"""Computed indicators read only the school years their metrics measure: the latest of each data set, and the year
before it where a metric compares with last year (shared courses, academic results). Older rows of the same data
version are never loaded, whether one application's versions are read or many clusters' at once (readiness)."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from certification.domain.computed import ApplicationData, ClusterData, load_records
from tests.certification.domain.computed.clusters import course, make_application, make_cluster
from tests.certification.domain.computed.test_rotation_courses import rotations
from tests.factories.datasets import load_rows

pytestmark = pytest.mark.django_db


def _five_years_of_data():
    cluster = make_cluster()
    application = make_application(cluster, ("shared_course_growth", "gt", "0"))
    roster, courses = [], []
    for year in (2021, 2022, 2023, 2024, 2025):
        start = datetime.date(year, 9, 1)
        roster += rotations(cluster, 2, "甲校", "乙校", start=start)
        courses += [course(cluster, f"课程{year}-{n}", f"{year}-1") for n in range(3)]
    for row in roster:
        row["teacher"] += f"-{row['year']}"
    load_rows(application, "rotation", roster)
    load_rows(application, "shared_courses", courses)
    return cluster, application


def _years(rows):
    return sorted({row["year"] for row in rows})


def test_only_the_latest_year_is_loaded_and_the_year_before_where_a_metric_compares():
    _cluster, application = _five_years_of_data()

    data = ApplicationData(application)

    assert _years(data.rows("rotation")) == [2025]
    assert _years(data.rows("shared_courses")) == [2024, 2025]
    assert [len(data.by_year("shared_courses")[year]) for year in (2024, 2025)] == [3, 3]


def test_a_year_before_those_loaded_is_refused_rather_than_read_as_no_data():
    _cluster, application = _five_years_of_data()
    data = ApplicationData(application)

    assert data.by_year("rotation").get(2026, []) == []  # after the latest: simply none
    with pytest.raises(ImproperlyConfigured, match="rotation rows of 2024 are not loaded"):
        data.by_year("rotation").get(2024)
    with pytest.raises(ImproperlyConfigured, match="shared_courses rows of 2023 are not loaded"):
        data.by_year("shared_courses")[2023]


def test_records_of_many_versions_hold_each_version_s_own_latest_years():
    _cluster, application = _five_years_of_data()
    other = make_cluster()
    later = make_application(other, ("shared_course_growth", "gt", "0"))
    load_rows(later, "shared_courses", [course(other, f"课程{year}", f"{year}-2") for year in (2022, 2023, 2024)])
    versions = [*application.data_versions.all(), *later.data_versions.all()]

    records = load_records(versions)

    for owner, cluster in ((application, _cluster), (later, other)):
        imports = {item.dataset: item for item in owner.data_versions.all()}
        shared = ClusterData(cluster, imports, on=datetime.date(2026, 3, 1), records=records)
        alone = ApplicationData(owner)
        for code in imports:
            assert shared.rows(code) == alone.rows(code)
    assert _years(ApplicationData(later).rows("shared_courses")) == [2023, 2024]
