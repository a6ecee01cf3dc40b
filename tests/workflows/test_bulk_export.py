"""An office exports the applications it ticks on its desk in one workbook (issue 12, bulk work): through the export
job, each application checked against the office's scope; out-of-scope ids, other roles and too many are refused."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from certification.domain.exports import request_export
from certification.errors import InvalidInput, NotAllowed
from certification.models import AuditEvent, ExportJob, Role, RoleGrant, Tier
from tests.certification.excel.test_exports import media, scored_application  # noqa: F401 (fixtures)
from tests.factories import ClusterFactory, DistrictFactory
from tests.factories.scoring import scoring_application
from tests.factories.work import person
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for
from tests.workflows.work_pages.helpers import another_cluster, to_formal_review

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


# ----------------------------------------------------------------------------------- 导出全部筛选结果


def _desk():
    """Three applications at formal review on the office's desk, one of them in a second district's city."""
    world = build_world(Tier.CLOSE_KNIT)
    first, _ = to_formal_review(world)
    second, _ = to_formal_review(world, *another_cluster(world))
    third, _ = to_formal_review(world, *another_cluster(world))
    return world, [first, second, third]


def test_the_office_exports_every_application_its_filters_match(django_capture_on_commit_callbacks, media):  # noqa: F811
    world, applications = _desk()
    applications[1].cluster.name = "筛选命中学区"
    applications[1].cluster.save(update_fields=["name"])
    office = client_for(world.office)

    with django_capture_on_commit_callbacks(execute=True):
        everything = office.post(reverse("work:bulk_export"), {"scope": "filtered"})
        searched = office.post(f"{reverse('work:bulk_export')}?q=筛选命中", {"scope": "filtered"})

    first_job, second_job = ExportJob.objects.filter(created_by=world.office).order_by("pk")
    assert everything["Location"] == reverse("export_job", args=[first_job.pk])
    assert searched["Location"] == reverse("export_job", args=[second_job.pk])
    assert set(first_job.applications.values_list("pk", flat=True)) == {a.pk for a in applications}
    assert list(second_job.applications.values_list("pk", flat=True)) == [applications[1].pk]
    assert second_job.status == ExportJob.Status.DONE
    assert "筛选命中学区" in _texts(second_job)
    assert office.get(reverse("export_download", args=[second_job.pk])).status_code == 200


def test_export_of_filtered_results_over_the_cap_is_refused_in_chinese(settings):
    world, _applications = _desk()
    settings.EXPORT_SELECTION_MAX = 2

    response = client_for(world.office).post(reverse("work:bulk_export"), {"scope": "filtered"})

    assert response.status_code == 400
    assert "筛选结果共 3 项申报，超过一次导出的上限 2 项" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_export_of_filtered_results_never_reaches_outside_the_office_scope():
    world, applications = _desk()
    other = build_world(Tier.CLOSE_KNIT)
    elsewhere, _ = to_formal_review(other)

    # The other district's office, with this district's filter in the query string: its desk lists none of them.
    response = client_for(other.office).post(
        f"{reverse('work:bulk_export')}?district={world.district.pk}", {"scope": "filtered"}, follow=True
    )

    assert not ExportJob.objects.exists()
    assert "请至少选择一项申报再导出。" in response.content.decode()
    assert all(application.cluster.name not in response.content.decode() for application in applications)
    # Unfiltered, it exports its own application only.
    client_for(other.office).post(reverse("work:bulk_export"), {"scope": "filtered"})
    assert list(ExportJob.objects.get().applications.values_list("pk", flat=True)) == [elsewhere.pk]


def test_download_is_refused_once_the_scope_is_lost(django_capture_on_commit_callbacks, media):  # noqa: F811
    world, _applications = _desk()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.office).post(reverse("work:bulk_export"), {"scope": "filtered"})
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE
    RoleGrant.objects.filter(user=world.office).update(revoked=timezone.now())

    assert client_for(world.office).get(reverse("export_download", args=[job.pk])).status_code == 404


def test_the_office_desk_offers_to_export_the_filtered_results():
    world, _applications = _desk()

    page = client_for(world.office).get(reverse("work:office"), {"tier": Tier.CLOSE_KNIT}).content.decode()

    assert f'action="{reverse("work:bulk_export")}?tier={Tier.CLOSE_KNIT}&amp;"' in page
    assert 'name="scope" value="filtered"' in page
    assert "导出全部筛选结果（3 项）" in page
