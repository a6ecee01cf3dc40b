"""Issue 13, "nothing about a tier on any page or export disagrees with the tier history": after a downgrade, the
cluster page, the region page's counts, the API's cluster list and the district export all show the derived tier."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from certification.domain import tiers
from certification.domain.exports import request_export
from certification.models import Role, Tier, TierChange
from tests.api.conftest import api_as
from tests.certification.domain.test_tiers import certificate_of
from tests.factories import ClusterFactory, DistrictFactory, published_standard
from tests.factories.work import person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def standards():
    return {tier: published_standard(tier) for tier in (Tier.CLOSE_KNIT, Tier.DISTRICT_MODEL, Tier.CITY_MODEL)}


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


def _export_rows(office, district, capture):
    with capture(execute=True):
        job = request_export(by=office, district=district)
    job.refresh_from_db()
    sheet = load_workbook(Path(settings.MEDIA_ROOT) / job.file_path).worksheets[0]
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    column = {name: index for index, name in enumerate(header)}
    return [(row[column["学区/集团"]], row[column["申报等级"]], row[column["当前等级"]]) for row in rows]


def test_after_a_downgrade_every_page_api_and_export_shows_the_derived_tier(django_capture_on_commit_callbacks):
    today = timezone.localdate()
    district = DistrictFactory(name="一致区")
    downgraded = ClusterFactory(district=district, name="甲学区")
    certificate_of(downgraded, Tier.CLOSE_KNIT, date(2024, 1, 1))
    certificate_of(downgraded, Tier.DISTRICT_MODEL, today - timedelta(days=400))
    holder = ClusterFactory(district=district, name="乙学区")
    certificate_of(holder, Tier.CLOSE_KNIT, date(2024, 1, 1))
    certificate_of(holder, Tier.DISTRICT_MODEL, today - timedelta(days=100))
    tiers.downgrade(downgraded, to_tier=Tier.CLOSE_KNIT, by=None, reason_text="整改逾期未完成。", on=today)
    assert TierChange.objects.filter(cluster=downgraded).latest("pk").to_tier == Tier.CLOSE_KNIT
    office = person(Role.DISTRICT_OFFICE, region=district)
    client = Client()
    client.force_login(office)

    cluster_page = client.get(f"/reference/cluster/{downgraded.pk}/detail/").content.decode()
    assert '<span class="xq-badge">紧密型</span>' in cluster_page
    holder_page = client.get(f"/reference/cluster/{holder.pk}/detail/").content.decode()
    assert '<span class="xq-badge">区级示范性</span>' in holder_page

    region_page = client.get(f"/reference/region/{district.pk}/detail/").content.decode()
    assert '<td>紧密型</td><td class="xq-num">1</td>' in region_page
    assert '<td>区级示范性</td><td class="xq-num">1</td>' in region_page

    listed = {row["name"]: row for row in api_as(office).get("/api/v1/clusters/").json()["results"]}
    assert {name: (row["current_tier"], row["current_tier_display"]) for name, row in listed.items()} == {
        "甲学区": ("close_knit", "紧密型"),
        "乙学区": ("district_model", "区级示范性"),
    }
    # "Held since" is the start of the unbroken run at 紧密型 or higher (`holding.held_since`), on the page and the API.
    assert listed["甲学区"]["tier_since"] == "2024-01-01"
    assert "紧密型</span> 自 2024-01-01 起" in cluster_page

    # The district export lists every application with the tier the cluster holds today: 甲学区's 区级 application
    # was certified, but the cluster holds 紧密型 now.
    assert sorted(_export_rows(office, district, django_capture_on_commit_callbacks)) == [
        ("乙学区", "区级示范性", "区级示范性"),
        ("乙学区", "紧密型", "区级示范性"),
        ("甲学区", "区级示范性", "紧密型"),
        ("甲学区", "紧密型", "紧密型"),
    ]
