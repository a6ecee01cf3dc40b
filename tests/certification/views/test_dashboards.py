"""Dashboards: who may open them, fixed query counts for 10 and 1,000 clusters, the JSON endpoint equals the
tables, stage durations and the .xlsx download."""

import re
from datetime import date, timedelta
from io import BytesIO

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from certification.domain import audit, plans
from certification.domain.dashboards import build_dashboard, percentile
from certification.models import Application, AuditEvent, Cluster, Role, Tier, TierChange
from tests.certification.tampering import as_database_owner
from tests.factories import ClusterFactory, DistrictFactory, published_standard
from tests.factories.plans import certify
from tests.factories.work import ApplicationFactory, correction, lead_of, office_of, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def district():
    return DistrictFactory(name="闵行区")


@pytest.fixture
def office(district):
    return office_of(district)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def grow(district, count, standard, opened_by):
    """`count` more clusters, each with a set-up tier change and an application in evidence collection."""
    start = Cluster.objects.count()
    clusters = Cluster.objects.bulk_create(
        Cluster(name=f"批量学区{start + i}", kind="xuequ", district=district, founded_on=date(2019, 9, 1))
        for i in range(count)
    )
    TierChange.objects.bulk_create(
        TierChange(cluster=c, from_tier="none", to_tier="close_knit", reason="initial", effective=date(2020, 1, 1))
        for c in clusters[::2]
    )
    Application.objects.bulk_create(
        Application(cluster=c, target_tier="close_knit", standard=standard, year=2026, opened_by=opened_by)
        for c in clusters
    )


def test_dashboard_queries_are_the_same_for_10_and_1000_clusters(district, office):
    plans.record_seed_targets(district, by=office)
    standard = published_standard(Tier.CLOSE_KNIT)
    grow(district, 10, standard, office)
    client = signed_in(office)
    urls = [
        reverse("dashboards:dashboard", args=["district", district.pk]),
        reverse("dashboards:data", args=["district", district.pk]),
        reverse("dashboards:dashboard", args=["city", district.parent.pk]),
    ]
    city_office = person(Role.CITY_OFFICE, region=district.parent)
    city_client = signed_in(city_office)

    def counts():
        found = []
        for client_, url in [(client, urls[0]), (client, urls[1]), (city_client, urls[2])]:
            with CaptureQueriesContext(connection) as queries:
                assert client_.get(url).status_code == 200
            found.append(len(queries))
        return found

    small = counts()
    grow(district, 990, standard, office)
    large = counts()

    assert Cluster.objects.filter(district=district).count() == 1000
    assert small == large


def table_rows(html, chart_id):
    table = re.search(rf'<table class="xq-table" data-chart-table="{re.escape(chart_id)}">(.*?)</table>', html, re.S)
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(1), re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_data_endpoint_equals_the_tables_beside_the_charts(district, office):
    plans.record_seed_targets(district, by=office)
    cluster = ClusterFactory(district=district, founded_on=date(2018, 1, 1))
    certify(cluster, Tier.CLOSE_KNIT, date(2021, 3, 1), date(2030, 3, 1))
    ClusterFactory(district=district, founded_on=date(2019, 1, 1))
    client = signed_in(office)

    page = client.get(reverse("dashboards:dashboard", args=["district", district.pk])).content.decode()
    data = client.get(reverse("dashboards:data", args=["district", district.pk])).json()

    assert [c["id"] for c in data["charts"]][-4:] == ["tiers", "stages", "durations", "overdue"]
    assert len(data["charts"]) == 9  # five targets, then the four charts above
    for chart in data["charts"]:
        rows = table_rows(page, chart["id"])
        if chart["rows"]:
            assert rows == chart["rows"], chart["id"]
        else:
            assert rows == [["暂无数据。"]]
    tiers = next(c for c in data["charts"] if c["id"] == "tiers")
    assert tiers["rows"] == [["新成立", "1"], ["紧密型", "1"], ["区级示范性", "0"], ["市级示范性", "0"]]
    share = next(c for c in data["charts"] if c["title"].startswith("达到该等级及以上的学区集团占全区比例 · 紧密型"))
    # 2021-12-31: both clusters exist, one holds 紧密型 from 2021-03-01: 50.0%, not above the target of 50.
    assert share["rows"][:2] == [["2018-12-31", "0.0", "50.0"], ["2019-12-31", "0.0", "50.0"]]
    assert ["2021-12-31", "50.0", "50.0"] in share["rows"]


def test_stage_durations_median_and_90th_percentile(district, office):
    lead = lead_of(ClusterFactory(district=district))
    applications = [ApplicationFactory(cluster=ClusterFactory(district=district), opened_by=lead) for _ in range(3)]
    start = timezone.now() - timedelta(days=60)
    for application, days in zip(applications, [2, 4, 10], strict=True):
        for offset, (old, new) in [(0, ("", "evidence")), (days, ("evidence", "formal_review"))]:
            event = audit.record("t", application=application, obj=application, from_state=old, to_state=new)
            # Back-dating the history is tampering by definition: on PostgreSQL only the table's owner may.
            with as_database_owner():
                AuditEvent.objects.filter(pk=event.pk).update(at=start + timedelta(days=offset))

    chart = build_dashboard("闵行区", [district]).chart("durations")

    evidence_row = chart.rows[0]
    assert evidence_row == ["材料提交中", "4.0", "10.0", "3"]
    assert percentile([2, 4, 10], 0.9) == 10 and percentile(list(range(1, 11)), 0.9) == 9


def test_overdue_corrections_are_listed_with_their_days(district, office):
    application = ApplicationFactory(
        cluster=ClusterFactory(district=district, name="天平-湖南学区"), status="correction"
    )
    correction(application, deadline=timezone.localdate() - timedelta(days=5), by=office)
    correction(
        ApplicationFactory(cluster=ClusterFactory(district=district), status="correction"),
        deadline=timezone.localdate() + timedelta(days=5),
        by=office,
    )

    chart = build_dashboard("闵行区", [district]).chart("overdue")

    assert chart.rows == [["天平-湖南学区", "5", (timezone.localdate() - timedelta(days=5)).isoformat()]]


def test_chart_downloads_as_xlsx_with_the_table(district, office):
    ClusterFactory(district=district)

    response = signed_in(office).get(reverse("dashboards:xlsx", args=["district", district.pk, "tiers"]))

    assert response.status_code == 200
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["按有效等级统计的学区集团", None],
        ["等级", "闵行区"],
        ["新成立", 1],
        ["紧密型", 0],
        ["区级示范性", 0],
        ["市级示范性", 0],
    ]


@pytest.mark.parametrize(
    ("who", "district_page", "city_page", "analytics"),
    [
        ("office", 200, 403, 403),
        ("leader", 200, 403, 403),
        ("other_office", 403, 403, 403),
        ("lead", 403, 403, 403),
        ("evaluator", 403, 403, 403),
        ("city_office", 200, 200, 200),
        ("city_leader", 200, 200, 403),
    ],
)
def test_who_may_open_the_dashboards(district, office, who, district_page, city_page, analytics):
    city = district.parent
    people = {
        "office": office,
        "leader": person(Role.DISTRICT_LEADER, region=district),
        "other_office": office_of(DistrictFactory(parent=city)),
        "lead": lead_of(ClusterFactory(district=district)),
        "evaluator": person(Role.EVALUATOR),
        "city_office": person(Role.CITY_OFFICE, region=city),
        "city_leader": person(Role.CITY_LEADER, region=city),
    }
    client = signed_in(people[who])

    got = (
        client.get(reverse("dashboards:dashboard", args=["district", district.pk])).status_code,
        client.get(reverse("dashboards:dashboard", args=["city", city.pk])).status_code,
        client.get(reverse("dashboards:evaluators", args=[city.pk])).status_code,
    )

    assert got == (district_page, city_page, analytics)
    assert client.get(reverse("dashboards:data", args=["district", district.pk])).status_code == district_page


def test_office_records_a_target_on_the_targets_page_and_the_leader_only_reads(district, office):
    leader = person(Role.DISTRICT_LEADER, region=district)
    url = reverse("dashboards:targets", args=[district.pk])
    data = {
        "year": 2025, "measure": "share_at_tier", "tier": "district_model", "low": "30", "high": "",
        "seed": "002_8209cd563b3064c1.txt", "quote": "到2025年，力争区级示范性学区集团占全区比例超过30%",
    }  # fmt: skip

    refused = signed_in(leader).post(url, data)
    recorded = signed_in(office).post(url, data)
    page = signed_in(leader).get(url).content.decode()

    assert refused.status_code == 403
    assert recorded.status_code == 302
    assert "到2025年，力争区级示范性学区集团占全区比例超过30%" in page
    assert "<form" not in page.split('data-test="targets"')[1]
