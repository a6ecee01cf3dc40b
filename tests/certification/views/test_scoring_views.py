"""The evaluator's score sheet page: their own sheet only, drafts, the offline workbook through HTTP, query counts."""

import io
import uuid
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from certification.domain.scoring import get_or_create_sheet
from certification.excel.scoring_workbook import COLUMNS, FIRST_ROW, SCORES_TITLE
from certification.models import Application, EvaluatorAssignment, EvidenceRequirement, Role
from certification.models.evidence import EvidenceFile
from tests.factories.scoring import panel, scored, scoring_application, scoring_standard
from tests.factories.work import person

pytestmark = pytest.mark.django_db


def _application(indicators):
    specs = [
        scored(
            f"A{n}",
            2,
            levels=[{"level": "优", "min_score": 2, "max_score": 2, "descriptor": f"描述{n}"}],
            evidence=[{"stage": "basic", "code": f"E{n}", "title": f"材料{n}"}],
        )
        for n in range(1, indicators + 1)
    ]
    application = scoring_application(scoring_standard(specs))
    for requirement in EvidenceRequirement.objects.filter(indicator__dimension__standard=application.standard):
        EvidenceFile.objects.create(
            application=application,
            requirement=requirement,
            version=1,
            original_name=f"{requirement.code}.pdf",
            stored_name=f"evidence/{uuid.uuid4().hex}",
            sha256="0" * 64,
            size=100,
            content_type="application/pdf",
            uploaded_by=application.opened_by,
        )
    return application


@pytest.fixture
def evaluator_client(client):
    application = _application(3)
    (assignment,) = panel(application, 1)
    client.force_login(assignment.evaluator)
    return client, application, assignment


def test_sheet_page_shows_indicators_levels_and_evidence(evaluator_client):
    client, application, _assignment = evaluator_client

    response = client.get(reverse("scoring_sheet", args=[application.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "A1 指标A1" in page and "A3 指标A3" in page
    assert "描述2" in page
    evidence = EvidenceFile.objects.get(application=application, requirement__code="E1")
    assert reverse("evidence_preview", args=[application.pk, evidence.pk]) in page
    assert "E1.pdf" in page
    assert 'name="value_' in page


def test_sheet_page_of_an_evaluator_of_another_application_is_404(client):
    application = _application(3)
    panel(application, 1)
    (elsewhere,) = panel(_application(3), 1)
    client.force_login(elsewhere.evaluator)

    response = client.get(reverse("scoring_sheet", args=[application.pk]))

    assert response.status_code == 404
    assert "指标A1" not in response.content.decode()


def test_sheet_page_of_a_recused_evaluator_is_404(client):
    application = _application(3)
    (recused,) = panel(application, 1)
    get_or_create_sheet(recused)
    EvaluatorAssignment.objects.filter(pk=recused.pk).update(status=EvaluatorAssignment.Status.RECUSED)
    client.force_login(recused.evaluator)

    response = client.get(reverse("scoring_sheet", args=[application.pk]))

    assert response.status_code == 404
    assert "指标A1" not in response.content.decode()


def test_sheet_page_refused_to_office_without_assignment(client):
    application = _application(3)
    office = person(Role.DISTRICT_OFFICE, region=application.cluster.district)
    client.force_login(office)

    for name in ("scoring_sheet", "scoring_workbook"):
        response = client.get(reverse(name, args=[application.pk]))
        assert response.status_code == 404
        # The indicator as the sheet shows it; a bare "A1" could occur in the page's random CSP nonce.
        assert "指标A1" not in response.content.decode()


def test_sheet_page_saves_a_draft(evaluator_client):
    client, application, assignment = evaluator_client
    sheet = get_or_create_sheet(assignment)
    ids = list(sheet.scores.order_by("indicator__order").values_list("indicator_id", flat=True))

    response = client.post(
        reverse("scoring_sheet", args=[application.pk]),
        {f"value_{ids[0]}": "1.5", f"comment_{ids[0]}": "会议纪要不全。", f"value_{ids[1]}": "2"},
    )

    assert response.status_code == 302
    values = dict(sheet.scores.values_list("indicator_id", "value"))
    assert (values[ids[0]], values[ids[1]], values[ids[2]]) == (Decimal("1.50"), Decimal("2.00"), None)


def test_sheet_page_shows_rule_errors_and_saves_nothing(evaluator_client):
    client, application, assignment = evaluator_client
    sheet = get_or_create_sheet(assignment)
    first = sheet.scores.order_by("indicator__order").first().indicator_id

    response = client.post(reverse("scoring_sheet", args=[application.pk]), {f"value_{first}": "1"})

    assert response.status_code == 400
    assert "未得满分须填写评语" in response.content.decode()
    assert sheet.scores.filter(value__isnull=False).count() == 0


def test_workbook_download_then_upload_through_the_pages(evaluator_client):
    client, application, assignment = evaluator_client

    download = client.get(reverse("scoring_workbook", args=[application.pk]))
    workbook = load_workbook(io.BytesIO(download.content))
    ws = workbook[SCORES_TITLE]
    ws[f"{COLUMNS['value']}{FIRST_ROW}"] = 1.25
    ws[f"{COLUMNS['comment']}{FIRST_ROW}"] = "缺少议事规则。"
    filled = io.BytesIO()
    workbook.save(filled)
    filled.name = "评分.xlsx"
    filled.seek(0)
    upload = client.post(reverse("scoring_workbook_upload", args=[application.pk]), {"workbook": filled})

    name = f"{application.cluster.name}-{application.get_target_tier_display()}-评分表-{assignment.evaluator}.xlsx"
    assert download["Content-Disposition"].endswith(f"; filename*=UTF-8''{quote(name, safe='')}")
    assert download["Content-Disposition"].startswith('attachment; filename="scoresheet-')
    assert upload.status_code == 302
    score = get_or_create_sheet(assignment).scores.order_by("indicator__order").first()
    assert (score.value, score.comment) == (Decimal("1.25"), "缺少议事规则。")


def test_workbook_upload_refusal_shown_on_the_page(evaluator_client):
    client, application, assignment = evaluator_client
    junk = io.BytesIO(b"%PDF-1.4 not a workbook")
    junk.name = "评分.xlsx"

    response = client.post(reverse("scoring_workbook_upload", args=[application.pk]), {"workbook": junk})

    assert response.status_code == 400
    assert "不是 Excel 工作簿" in response.content.decode()
    assert get_or_create_sheet(assignment).scores.filter(value__isnull=False).count() == 0


def _page_queries(client, indicators):
    application = _application(indicators)
    (assignment,) = panel(application, 1)
    get_or_create_sheet(assignment)
    client.force_login(assignment.evaluator)
    url = reverse("scoring_sheet", args=[application.pk])
    client.get(url)  # warm caches (sessions, content types) outside the count
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('name="value_') == indicators
    return len(queries)


def test_sheet_page_query_count_same_for_3_and_30_indicators(client):
    assert _page_queries(client, 3) == _page_queries(client, 30)


def test_sheet_page_shows_computed_value_threshold_and_rows_link(client):
    from tests.factories.datasets import computed_standard, data_application, data_cluster, load_rows, school

    cluster = data_cluster(("甲校", ["primary"]), ("乙校", ["primary"]))
    application = data_application(
        cluster,
        computed_standard(("shared_course_count", "gte", "5")),
        status=Application.Status.SCORING,
    )
    load_rows(application, "eligible_teachers", [{"school": school(cluster, "甲校"), "year": 2025, "teachers": 10}])
    (assignment,) = panel(application, 1)
    client.force_login(assignment.evaluator)

    page = client.get(reverse("scoring_sheet", args=[application.pk])).content.decode()

    assert f"{reverse('application_computed', args=[application.pk])}#indicator-C1" in page
    assert "≥ 5" in page
    assert "缺少数据：请自行评分" in page


def test_sheet_evidence_open_link_reads_open_not_the_stage_status(evaluator_client):
    client, application, _assignment = evaluator_client

    page = client.get(reverse("scoring_sheet", args=[application.pk])).content.decode()

    assert 'data-turbo="false">打开</a>' in page
    assert "进行中" not in page


def test_sheet_page_has_the_site_frame_running_total_and_no_inline_style(evaluator_client):
    client, application, assignment = evaluator_client
    sheet = get_or_create_sheet(assignment)
    first = sheet.scores.order_by("indicator__order").first()
    first.value = Decimal("1.5")
    first.save(update_fields=["value"])

    page = client.get(reverse("scoring_sheet", args=[application.pk])).content.decode()

    assert 'class="vf-page__menu' in page and "我的申报" not in page and "申报列表" in page
    assert "Django Material" not in page
    assert "当前合计：<strong data-running-total>1.5</strong>" in page
    assert "certification/score_sheet.js" in page and 'class="xq-scroll"' in page
    assert 'style="' not in page.split('<main class="vf-page__content">')[1]


def test_sheet_errors_listed_at_the_top_with_links_to_the_rows(evaluator_client):
    client, application, assignment = evaluator_client
    sheet = get_or_create_sheet(assignment)
    first = sheet.scores.order_by("indicator__order").first().indicator

    page = client.post(reverse("scoring_sheet", args=[application.pk]), {f"value_{first.pk}": "1"}).content.decode()

    summary = page.split('data-test="sheet-errors"')[1].split("</div>")[0]
    assert f'<a href="#indicator-{first.pk}">A1</a>：未得满分须填写评语' in summary
    assert page.index('data-test="sheet-errors"') < page.index("data-score-sheet")


def test_workbook_upload_refusal_shown_at_the_top_of_the_page(evaluator_client):
    client, application, _assignment = evaluator_client
    junk = io.BytesIO(b"%PDF-1.4 not a workbook")
    junk.name = "评分.xlsx"

    page = client.post(reverse("scoring_workbook_upload", args=[application.pk]), {"workbook": junk}).content.decode()

    top = page.split('data-test="upload-errors"')[1].split("</div>")[0]
    assert "不是 Excel 工作簿" in top
    assert page.index('data-test="upload-errors"') < page.index("data-score-sheet")


def test_sheet_page_words_a_threshold_as_the_computed_page_does(client):
    from tests.factories.datasets import computed_standard, data_application, data_cluster

    cluster = data_cluster(("甲校", ["primary"]), ("乙校", ["primary"]))
    application = data_application(
        cluster,
        computed_standard(("rotation_same_stage_rate", "between", "0.10", "0.20")),
        status=Application.Status.SCORING,
    )
    (assignment,) = panel(application, 1)
    client.force_login(assignment.evaluator)

    sheet = client.get(reverse("scoring_sheet", args=[application.pk])).content.decode()
    computed = client.get(reverse("application_computed", args=[application.pk])).content.decode()

    assert "达标线: 介于 10%–20%" in sheet
    assert "介于 10%–20%" in computed
    assert "0.10" not in sheet
