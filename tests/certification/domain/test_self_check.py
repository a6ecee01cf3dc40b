"""The self-check before applying (issue 13 item 7) and the district's readiness table.

Cluster: 甲校 (nine-year, core), 乙校 and 丙校 (primary); 50 + 30 + 20 = 100 eligible teachers in 2025; 10 teachers
乙校 → 丙校 (same stage), 2 of them backbone. The close-knit standard asks for:
    C1 same-stage rotation 10 ÷ 100 = 10% in 10–20%          met
    C2 backbone share of same-stage rotation 2 ÷ 10 = 20% ≥ 20%  met
    C3 kindergarten rotation, N/A allowed, no kindergarten     N/A
    C4 satisfaction ≥ 90%, no survey imported                 cannot be computed
and one scored indicator with a charter document (evidence without a data set).
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certification.domain import datasets
from certification.domain.computed import compute_indicators
from certification.domain.eligibility import check_eligibility
from certification.domain.opening import open_application
from certification.domain.readiness import readiness, self_check
from certification.errors import NotEligible
from certification.metrics import METRICS
from certification.models import Application, AuditEvent, Role, Tier
from tests.factories import ClusterFactory, published_standard
from tests.factories.datasets import lead, workbook_bytes, xlsx_upload
from tests.factories.workbooks import eligible, mixed_cluster, team
from tests.factories.workflow import person

pytestmark = pytest.mark.django_db

HUNDRED = {"甲校": 50, "乙校": 30, "丙校": 20}
YEAR = 2025


def _computed(code, metric, comparator, threshold, *, high="", na=False):
    return {
        "code": code,
        "title": f"计算指标{code}",
        "max_score": Decimal("10"),
        "method": "computed",
        "metric": metric,
        "comparator": comparator,
        "threshold": threshold,
        "threshold_high": high,
        "na_allowed": na,
        "evidence": [
            {"stage": "process", "code": f"{code}-{dataset}", "title": f"{dataset} 数据", "dataset": dataset}
            for dataset in METRICS[metric].datasets
        ],
    }


def close_knit_standard():
    indicators = [
        _computed("C1", "rotation_same_stage_rate", "between", "0.10", high="0.20"),
        _computed("C2", "backbone_share_same_stage", "gte", "0.20"),
        _computed("C3", "kindergarten_rotation_rate", "gte", "0.05", na=True),
        _computed("C4", "satisfaction_min", "gte", "0.90"),
        {
            "code": "S1",
            "title": "章程",
            "max_score": Decimal("10"),
            "method": "scored",
            "evidence": [{"stage": "basic", "code": "S1-1", "title": "学区章程"}],
        },
    ]
    return published_standard(Tier.CLOSE_KNIT, indicators=indicators, total_score=Decimal(50), pass_score=Decimal(25))


def with_data(cluster, capture):
    by = lead(cluster)
    for code, rows in (("eligible_teachers", eligible(HUNDRED)), ("rotation", team("T", 10, backbone=2))):
        with capture(execute=True):
            datasets.start_cluster_import(cluster, YEAR, code, xlsx_upload(workbook_bytes(code, rows)), by=by)
    return by


def figures(results):
    return [
        (r.indicator.code, r.value, r.display, r.passed, r.not_applicable, r.threshold_display, r.missing_data, r.rows)
        for r in results
    ]


def test_self_check_shows_the_figures_the_application_computes_from_the_same_data_version(
    django_capture_on_commit_callbacks,
):
    close_knit_standard()
    cluster = mixed_cluster()
    by = with_data(cluster, django_capture_on_commit_callbacks)
    audit_before = AuditEvent.objects.count()

    check = self_check(cluster, YEAR)

    assert AuditEvent.objects.count() == audit_before  # nothing recorded
    assert not Application.objects.filter(cluster=cluster).exists()
    application = open_application(cluster, Tier.CLOSE_KNIT, by=by, year=YEAR + 1)
    pinned = datasets.pinned_versions(application)
    assert check.version_ids == sorted(item.pk for item in pinned.values())
    assert figures(check.results) == figures(compute_indicators(application).values())
    assert [(r.indicator.code, r.display, r.passed, r.not_applicable) for r in check.results] == [
        ("C1", "10%", True, False),
        ("C2", "20%", True, False),
        ("C3", "不适用：本学区/集团没有幼儿园。", None, True),
        ("C4", "无数据", None, False),
    ]
    behind = [row["dataset"] for row in check.results[0].rows]  # the rows behind the figure
    assert (behind.count("rotation"), behind.count("eligible_teachers"), len(behind)) == (10, 3, 13)


def test_self_check_lists_the_missing_data_and_evidence_and_the_next_tier(django_capture_on_commit_callbacks):
    close_knit_standard()
    cluster = mixed_cluster()
    with_data(cluster, django_capture_on_commit_callbacks)

    check = self_check(cluster, YEAR)

    assert (check.held, check.target, check.refusal) == (Tier.NONE, Tier.CLOSE_KNIT, "")
    assert [dataset.code for dataset in check.missing_data] == ["satisfaction"]
    assert [requirement.code for requirement in check.missing_evidence] == ["C4-satisfaction", "S1-1"]
    assert (check.met, check.not_met, check.unknown, check.ready) == (3, 0, 1, False)


def test_readiness_agrees_with_eligibility(django_capture_on_commit_callbacks):
    close_knit_standard()
    ready_to_apply = mixed_cluster()
    busy = mixed_cluster()
    with_data(ready_to_apply, django_capture_on_commit_callbacks)
    open_application(busy, Tier.CLOSE_KNIT, by=lead(busy), year=YEAR + 1)
    top = ClusterFactory(current_tier=Tier.CITY_MODEL)
    no_standard = ClusterFactory(current_tier=Tier.CLOSE_KNIT)

    checks = {check.cluster.pk: check for check in readiness([ready_to_apply, busy, top, no_standard], YEAR)}

    for cluster in (ready_to_apply, busy, top, no_standard):
        check = checks[cluster.pk]
        try:
            check_eligibility(cluster, check.target or Tier.CITY_MODEL)
        except NotEligible as refused:
            assert check.refusal == refused.message
        else:
            assert check.refusal == ""
    assert checks[busy.pk].refusal.startswith(busy.name)
    assert checks[top.pk].target is None
    assert checks[no_standard.pk].target == Tier.DISTRICT_MODEL


def _district_clusters(district, count, capture):
    made = []
    for _number in range(count):
        cluster = mixed_cluster()
        cluster.district = district
        cluster.save(update_fields=["district"])
        with_data(cluster, capture)
        made.append(cluster)
    return made


def _page_queries(client, district):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("district_readiness", args=[district.pk]), {"year": YEAR})
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_readiness_page_runs_the_same_queries_for_one_and_many_clusters(client, django_capture_on_commit_callbacks):
    close_knit_standard()
    one = ClusterFactory().district
    many = ClusterFactory().district
    _district_clusters(one, 1, django_capture_on_commit_callbacks)
    made = _district_clusters(many, 4, django_capture_on_commit_callbacks)
    office_one = person(Role.DISTRICT_OFFICE, region=one)
    office_many = person(Role.DISTRICT_OFFICE, region=many)

    client.force_login(office_one)
    few, _page = _page_queries(client, one)
    client.force_login(office_many)
    lots, page = _page_queries(client, many)

    assert few == lots
    for cluster in made:
        assert cluster.name in page
