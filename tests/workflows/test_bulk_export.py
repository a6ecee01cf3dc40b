"""An office exports the applications it ticks on its desk in one workbook (issue 12, bulk work): through the export
job, each application checked against the office's scope; out-of-scope ids, other roles and too many are refused."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from certification.domain.exports import request_export
from certification.errors import InvalidInput, NotAllowed
from certification.models import AuditEvent, ExportJob, Role, Tier
from tests.certification.excel.test_exports import media, scored_application  # noqa: F401 (fixtures)
from tests.factories import ClusterFactory, DistrictFactory
from tests.factories.scoring import scoring_application
from tests.factories.work import person
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for
from tests.workflows.work_pages.helpers import to_formal_review

pytestmark = pytest.mark.django_db


def _texts(job):
    workbook = load_workbook(Path(settings.MEDIA_ROOT) / job.file_path)
    return {str(cell.value) for ws in workbook.worksheets for row in ws.iter_rows() for cell in row if cell.value}


def test_the_office_exports_the_ticked_applications_in_one_workbook(
    scored_application,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    district = scored_application.cluster.district
    second = scoring_application(scored_application.standard, cluster=ClusterFactory(district=district, name="乙学区"))
    left_out = scoring_application(
        scored_application.standard, cluster=ClusterFactory(district=district, name="丙学区")
    )
    office = person(Role.DISTRICT_OFFICE, region=district)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(office).post(
            reverse("work:bulk_export"), {"application": [scored_application.pk, second.pk]}
        )

    job = ExportJob.objects.get(created_by=office)
    assert response.status_code == 302 and response["Location"] == reverse("export_job", args=[job.pk])
    assert job.kind == ExportJob.Kind.SELECTION and job.status == ExportJob.Status.DONE
    assert set(job.applications.values_list("pk", flat=True)) == {scored_application.pk, second.pk}
    texts = _texts(job)
    assert {"乙学区", "所选 2 项申报汇总"} <= texts
    assert any("1+1学区" in text for text in texts)
    assert left_out.cluster.name not in texts
    event = AuditEvent.objects.get(action="export.requested", object_id=str(job.pk))
    assert sorted(event.payload["applications"]) == sorted([scored_application.pk, second.pk])
    download = client_for(office).get(reverse("export_download", args=[job.pk]))
    assert download.status_code == 200


def test_an_out_of_scope_id_refuses_the_whole_export(scored_application):  # noqa: F811
    office = person(Role.DISTRICT_OFFICE, region=scored_application.cluster.district)
    elsewhere = scoring_application(
        scored_application.standard, cluster=ClusterFactory(district=DistrictFactory(), name="别区学区")
    )

    mixed = client_for(office).post(reverse("work:bulk_export"), {"application": [scored_application.pk, elsewhere.pk]})
    unknown = client_for(office).post(reverse("work:bulk_export"), {"application": [scored_application.pk, 987654]})

    assert (mixed.status_code, unknown.status_code) == (403, 403)
    assert "别区学区" not in mixed.content.decode()
    assert not ExportJob.objects.exists()
    with pytest.raises(NotAllowed):
        request_export(by=office, applications=[scored_application, elsewhere])
    assert not ExportJob.objects.exists()


def test_only_offices_may_bulk_export(scored_application):  # noqa: F811
    district = scored_application.cluster.district
    for user in (person(Role.DISTRICT_LEADER, region=district), person(Role.LEAD, cluster=scored_application.cluster)):
        response = client_for(user).post(reverse("work:bulk_export"), {"application": [scored_application.pk]})
        assert response.status_code == 403
    assert not ExportJob.objects.exists()


def test_too_many_or_none_are_refused_with_a_chinese_message(scored_application, settings):  # noqa: F811
    district = scored_application.cluster.district
    second = scoring_application(scored_application.standard, cluster=ClusterFactory(district=district))
    office = person(Role.DISTRICT_OFFICE, region=district)
    settings.EXPORT_SELECTION_MAX = 1

    too_many = client_for(office).post(reverse("work:bulk_export"), {"application": [scored_application.pk, second.pk]})
    none = client_for(office).post(reverse("work:bulk_export"), {}, follow=True)

    assert too_many.status_code == 400
    assert "一次最多导出 1 项申报，您选择了 2 项。" in too_many.content.decode()
    assert "请至少选择一项申报再导出。" in none.content.decode()
    with pytest.raises(InvalidInput):
        request_export(by=office, applications=[scored_application, second])
    assert not ExportJob.objects.exists()


def test_the_office_desk_offers_a_checkbox_per_row_for_the_export():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_formal_review(world)

    page = client_for(world.office).get(reverse("work:office")).content.decode()

    assert f'action="{reverse("work:bulk_export")}"' in page
    assert f'name="application" value="{application.pk}" form="bulk-export"' in page
    assert "导出所选申报" in page
