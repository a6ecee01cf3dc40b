"""Exports: 评估汇总表 and the district summary built by the Celery task, escaped text, progress and permissions."""

import codecs
import csv
import io
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from certification.domain.aggregation import aggregate
from certification.domain.exports import request_export
from certification.domain.scoring import get_or_create_sheet, save_scores, submit_sheet
from certification.errors import InvalidInput, NotAllowed
from certification.excel import summary_export
from certification.excel.summary_export import text_cell
from certification.models import ExportJob, Role
from tests.factories import ClusterFactory, DistrictFactory, UserFactory
from tests.factories.scoring import (
    NA,
    entries_for,
    panel,
    scored,
    scoring_application,
    scoring_standard,
)
from tests.factories.work import person

HOSTILE = ['=HYPERLINK("http://evil","点我")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "#N/A"]


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def scored_application(db):
    district = DistrictFactory()
    cluster = ClusterFactory(district=district, name="=1+1学区")
    standard = scoring_standard([scored("A1", 6), scored("A2", 4, na_allowed=True)])
    application = scoring_application(standard, cluster=cluster)
    assignments = panel(application, 4)
    assignments[0].evaluator.display_name = "@评估专家"
    assignments[0].evaluator.save()
    for assignment, comment in zip(assignments, HOSTILE[:4], strict=True):
        sheet = get_or_create_sheet(assignment)
        entries = entries_for(sheet, {"A1": 5, "A2": NA}, comment=comment)
        save_scores(sheet, entries, by=assignment.evaluator)
        submit_sheet(sheet, by=assignment.evaluator)
    aggregate(application)
    return application


def _build(by, *, django_capture_on_commit_callbacks, **subject):
    with django_capture_on_commit_callbacks(execute=True):
        job = request_export(by=by, **subject)
    job.refresh_from_db()
    return job


def _cells(job):
    workbook = load_workbook(Path(settings.MEDIA_ROOT) / job.file_path)
    return {
        cell.value: cell
        for ws in workbook.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.value is not None
    }


def test_application_export_holds_scores_comments_and_result(scored_application, django_capture_on_commit_callbacks):
    office = person(Role.DISTRICT_OFFICE, region=scored_application.cluster.district)

    job = _build(
        office, application=scored_application, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )

    assert (job.status, job.progress, job.created_by) == (ExportJob.Status.DONE, 100, office)
    assert job.file_path.startswith("exports/") and job.file_path.endswith(".xlsx")
    workbook = load_workbook(Path(settings.MEDIA_ROOT) / job.file_path)
    ws = workbook.worksheets[0]
    rows = [[cell.value for cell in row] for row in ws.iter_rows()]
    header = next(row for row in rows if row and row[0] == "一级指标")
    assert header[7:9] == ["@评估专家：评分", "@评估专家：评语"]
    a1 = next(row for row in rows if len(row) > 1 and row[1] == "A1")
    assert a1[3] == 6 and a1[7] == 5 and a1[8] == HOSTILE[0]
    assert a1[15] == 5  # combined, after 4 evaluators × (score, comment)
    a2 = next(row for row in rows if len(row) > 1 and row[1] == "A2")
    assert a2[7] == "N/A" and a2[15] == "N/A"
    totals = {row[0]: row[1] for row in rows if row and row[0] in {"总分", "结论"}}
    assert totals == {"总分": 8.33, "结论": "通过"}  # A2 N/A: total 10 × 5 ÷ 6 = 8.33 ≥ pass score 6


@pytest.mark.parametrize("text", [*HOSTILE[:4], "=1+1学区", "@评估专家：评分"])
def test_exported_user_text_is_a_string_not_a_formula(scored_application, django_capture_on_commit_callbacks, text):
    office = person(Role.DISTRICT_OFFICE, region=scored_application.cluster.district)
    job = _build(
        office, application=scored_application, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )

    cells = _cells(job)

    assert text in cells
    assert cells[text].data_type == "s"


def test_text_cell_marks_formula_triggers_quote_prefixed():
    from openpyxl import Workbook

    ws = Workbook().active
    for row, text in enumerate([*HOSTILE, "普通文字"], 1):
        text_cell(ws.cell(row=row, column=1), text)
    data = io.BytesIO()
    ws.parent.save(data)

    reopened = load_workbook(io.BytesIO(data.getvalue())).active
    values = [(c.value, c.data_type, bool(c.quotePrefix)) for (c,) in reopened.iter_rows()]
    # A bare CR is kept as LF, as any XML reader would turn it into anyway.
    expected = [text.replace("\r", "\n") for text in [*HOSTILE, "普通文字"]]
    assert values == [(text, "s", text[0] in "=+-@\t\n") for text in expected]


def test_district_summary_lists_every_application(scored_application, django_capture_on_commit_callbacks):
    district = scored_application.cluster.district
    other = scoring_application(scored_application.standard, cluster=ClusterFactory(district=district, name="另一学区"))
    elsewhere = scoring_application(scored_application.standard, cluster=ClusterFactory(name="外区学区"))
    leader = person(Role.DISTRICT_LEADER, region=district)

    job = _build(leader, district=district, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    workbook = load_workbook(Path(settings.MEDIA_ROOT) / job.file_path)
    summary = [[c.value for c in row] for row in workbook.worksheets[0].iter_rows(min_row=3)]
    assert [row[0] for row in summary] == ["=1+1学区", other.cluster.name]
    assert workbook.worksheets[0]["A3"].data_type == "s"
    assert summary[0][6] == 8.33 and summary[0][9] == "通过"
    assert summary[1][6] is None and summary[1][9] == "未评分"
    assert elsewhere.cluster.name not in {row[0] for row in summary}
    details = [[c.value for c in row] for row in workbook.worksheets[1].iter_rows(min_row=2)]
    assert [(row[0], row[2], row[5]) for row in details] == [("=1+1学区", "A1", 5), ("=1+1学区", "A2", "N/A")]


def test_district_summary_refused_to_other_districts_and_evaluators(scored_application):
    district = scored_application.cluster.district
    outsider = person(Role.DISTRICT_OFFICE, region=DistrictFactory())
    city = person(Role.CITY_OFFICE, region=district.parent)

    for user in (outsider, city, UserFactory()):
        with pytest.raises(NotAllowed):
            request_export(by=user, district=district)
    assert not ExportJob.objects.exists()


def test_export_pages_poll_and_download(client, scored_application, django_capture_on_commit_callbacks):
    office = person(Role.DISTRICT_OFFICE, region=scored_application.cluster.district)
    client.force_login(office)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("export_application", args=[scored_application.pk]))
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("export_job", args=[job.pk])

    status = client.get(reverse("export_job_status", args=[job.pk])).json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["download_url"] == reverse("export_download", args=[job.pk])
    download = client.get(status["download_url"])
    assert download.status_code == 200
    name = f"{scored_application.cluster.name}-{scored_application.get_target_tier_display()}-评估汇总表.xlsx"
    assert download["Content-Disposition"] == (
        f"attachment; filename=\"export-application-{job.pk}.xlsx\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    assert download["X-Content-Type-Options"] == "nosniff"
    body = b"".join(download.streaming_content)
    assert load_workbook(io.BytesIO(body)).worksheets[0]["A1"].value == "评估汇总表"


def test_export_download_refused_to_others(client, scored_application, django_capture_on_commit_callbacks):
    district = scored_application.cluster.district
    office = person(Role.DISTRICT_OFFICE, region=district)
    job = _build(
        office, application=scored_application, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )
    colleague = person(Role.DISTRICT_OFFICE, region=district)
    client.force_login(colleague)

    for name in ("export_job", "export_job_status", "export_download"):
        response = client.get(reverse(name, args=[job.pk]))
        assert response.status_code == 404
        assert b"=1+1" not in response.content


def test_application_export_refused_to_the_cluster_lead(client, scored_application):
    lead = person(Role.LEAD, cluster=scored_application.cluster)
    client.force_login(lead)

    response = client.post(reverse("export_application", args=[scored_application.pk]))

    assert response.status_code == 403
    assert not ExportJob.objects.exists()


def test_build_export_twice_keeps_the_first_file(scored_application, django_capture_on_commit_callbacks):
    from certification.excel.summary_export import task_build_export

    office = person(Role.DISTRICT_OFFICE, region=scored_application.cluster.district)
    job = _build(
        office, application=scored_application, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )

    task_build_export(job_id=job.pk)

    again = ExportJob.objects.get(pk=job.pk)
    assert again.file_path == job.file_path
    assert len(list((Path(settings.MEDIA_ROOT) / "exports").iterdir())) == 1
    assert task_build_export(job_id=job.pk + 1000) is False
    assert Decimal(str(scored_application.standard.total_score)) == Decimal("10")


def test_export_download_refused_after_role_revoked(client, scored_application, django_capture_on_commit_callbacks):
    from certification.domain.roles import revoke_role
    from certification.models import RoleGrant

    office = person(Role.DISTRICT_OFFICE, region=scored_application.cluster.district)
    job = _build(
        office, application=scored_application, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )
    revoke_role(RoleGrant.objects.get(user=office), by=None)
    client.force_login(office)

    response = client.get(reverse("export_download", args=[job.pk]))

    assert response.status_code == 404
    assert b"=1+1" not in response.content


def test_district_export_page_404_outside_the_district(client, scored_application):
    outsider = person(Role.DISTRICT_LEADER, region=DistrictFactory())
    client.force_login(outsider)

    response = client.post(reverse("export_district", args=[scored_application.cluster.district.pk]))

    assert response.status_code == 404
    assert not ExportJob.objects.exists()


def _csv_rows(data):
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_export_prefixes_every_formula_trigger_and_keeps_numbers(
    client, scored_application, django_capture_on_commit_callbacks
):
    office = person(Role.DISTRICT_OFFICE, region=scored_application.cluster.district)
    client.force_login(office)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("export_application", args=[scored_application.pk]), {"format": "csv"})
    job = ExportJob.objects.get()
    download = client.get(reverse("export_download", args=[job.pk]))

    assert response["Location"] == reverse("export_job", args=[job.pk])
    assert (job.file_format, job.status) == (ExportJob.FileFormat.CSV, ExportJob.Status.DONE)
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == (
        f'attachment; filename="export-application-{job.pk}.csv"; '
        "filename*=UTF-8''%3D1%2B1%E5%AD%A6%E5%8C%BA-%E7%B4%A7%E5%AF%86%E5%9E%8B-%E8%AF%84%E4%BC%B0%E6%B1%87%E6%80%BB%E8%A1%A8.csv"
    )
    raw = b"".join(download.streaming_content)
    rows = _csv_rows(raw)
    assert rows[0] == ["评估汇总表"]
    assert rows[1] == ["学区/集团", "'=1+1学区"]
    header = next(row for row in rows if row and row[0] == "一级指标")
    assert header[7:9] == ["'@评估专家：评分", "'@评估专家：评语"]
    a1 = next(row for row in rows if len(row) > 1 and row[1] == "A1")
    # The four evaluators' comments: =…, +…, -…, @… each behind an apostrophe; scores stay bare numbers.
    assert [a1[8], a1[10], a1[12], a1[14]] == ["'" + text for text in HOSTILE[:4]]
    assert (a1[3], a1[7], a1[15]) == ("6.0", "5.0", "5.0")
    assert b'"6.0"' not in raw and b",6.0," in raw
    # No field anywhere starts with a trigger a spreadsheet would evaluate.
    assert [field for row in rows for field in row if field[:1] in ("=", "+", "@", "\t", "\r")] == []


def test_csv_district_summary_has_both_sections_and_prefixes_names(
    scored_application, django_capture_on_commit_callbacks
):
    district = scored_application.cluster.district
    scoring_application(scored_application.standard, cluster=ClusterFactory(district=district, name="-1学区"))
    leader = person(Role.DISTRICT_LEADER, region=district)

    job = _build(
        leader,
        district=district,
        file_format="csv",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    assert job.file_path.endswith(".csv")
    rows = _csv_rows((Path(settings.MEDIA_ROOT) / job.file_path).read_bytes())
    blank = rows.index([])
    summary, details = rows[:blank], rows[blank + 1 :]
    assert [row[0] for row in summary[2:]] == ["'-1学区", "'=1+1学区"]
    assert summary[3][6] == "8.33" and summary[3][9] == "通过"
    assert summary[2][6] == "" and summary[2][9] == "未评分"
    assert [(row[0], row[2], row[5]) for row in details[1:]] == [("'=1+1学区", "A1", "5.0"), ("'=1+1学区", "A2", "N/A")]


def test_export_in_an_unknown_format_is_refused(scored_application):
    office = person(Role.DISTRICT_OFFICE, region=scored_application.cluster.district)

    with pytest.raises(InvalidInput):
        request_export(by=office, application=scored_application, file_format="pdf")
    assert not ExportJob.objects.exists()


def test_summary_progress_is_reported_every_progress_rows_and_at_each_sheet_end(
    scored_application, tmp_path, monkeypatch
):
    district = scored_application.cluster.district
    scoring_application(scored_application.standard, cluster=ClusterFactory(district=district, name="另一学区"))
    monkeypatch.setattr(summary_export, "PROGRESS_ROWS", 3)
    calls = []

    job = ExportJob(kind=ExportJob.Kind.DISTRICT, district=district)
    summary_export.write_export(job, tmp_path / "summary.xlsx", lambda done, total: calls.append((done, total)))

    # Two application rows, then the first application's two indicator rows: row 3 is reported, each sheet's end too.
    assert calls == [(2, 4), (3, 4), (4, 4)]
