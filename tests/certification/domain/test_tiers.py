"""Issue 13, items 4–6: the tier is derived from certificates and tier history; certificates expire, renew without a
gap, are downgraded or revoked; eligibility, the region page, the API export and the public check all agree."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certification.domain import tiers
from certification.domain.certificate import certificate_check_code, certify
from certification.domain.eligibility import check_eligibility
from certification.domain.public import verify_certificate
from certification.errors import IllegalTransition, NotEligible
from certification.models import (
    AuditEvent,
    Certificate,
    Cluster,
    Notification,
    Role,
    SentReminder,
    Tier,
    TierChange,
    holding,
)
from tests.factories import ClusterFactory, DistrictFactory, UserFactory, published_standard
from tests.factories.work import ApplicationFactory, lead_of, office_of, person

pytestmark = pytest.mark.django_db

_serials = iter(range(1, 10_000))


def certificate_of(cluster, tier, issued, valid_until=None):
    """A certificate as `certify` leaves it (with its CERTIFIED tier-history line), without running the process."""
    application = ApplicationFactory(cluster=cluster, target_tier=tier, status="certified")
    certificate = Certificate(
        serial=f"XQRZ-T-{next(_serials):05d}",
        application=application,
        cluster=cluster,
        tier=tier,
        standard=application.standard,
        issued=issued,
        valid_until=valid_until or issued.replace(year=issued.year + 3),
    )
    certificate.check_code = certificate_check_code(certificate)
    certificate.save()
    TierChange.objects.create(
        cluster=cluster,
        from_tier=tiers.current_tier(cluster, issued - timedelta(days=1)),
        to_tier=tier,
        reason=TierChange.Reason.CERTIFIED,
        effective=issued,
        application=application,
    )
    return certificate


def fresh(cluster):
    return Cluster.objects.get(pk=cluster.pk)


def sql_tier(cluster, on):
    return Cluster.objects.with_tier(on).values_list("current_tier", flat=True).get(pk=cluster.pk)


@pytest.fixture
def standards():
    return {tier: published_standard(tier) for tier in (Tier.CLOSE_KNIT, Tier.DISTRICT_MODEL, Tier.CITY_MODEL)}


# ---------------------------------------------------------------------------------------------- expiry


def test_expiry_without_renewal_drops_the_tier_and_records_daoqi(standards):
    cluster = ClusterFactory()
    lead, office = lead_of(cluster), office_of(cluster.district)
    certificate = certificate_of(cluster, Tier.CLOSE_KNIT, date(2023, 3, 1), date(2026, 3, 1))
    last_day, next_day = date(2026, 3, 1), date(2026, 3, 2)

    assert (tiers.current_tier(cluster, last_day), sql_tier(cluster, last_day)) == (Tier.CLOSE_KNIT, "close_knit")
    # Derived: the day after the validity the tier is gone even before the job writes its line.
    assert (tiers.current_tier(cluster, next_day), sql_tier(cluster, next_day)) == (Tier.NONE, "none")

    assert tiers.expire_certificates(today=next_day) == 1
    assert tiers.expire_certificates(today=next_day) == 0  # safe to run twice

    certificate.refresh_from_db()
    assert (certificate.ended_on, certificate.end_reason) == (next_day, "expired")
    line = TierChange.objects.get(cluster=cluster, reason=TierChange.Reason.EXPIRED)
    assert (line.from_tier, line.to_tier, line.effective) == (Tier.CLOSE_KNIT, Tier.NONE, next_day)
    assert AuditEvent.objects.filter(action="certificate.ended", object_id=str(certificate.pk)).count() == 1
    assert {n.recipient for n in Notification.objects.filter(subject__contains=certificate.serial)} == {lead, office}
    cluster = fresh(cluster)
    with pytest.raises(NotEligible, match="区级示范性申报须先取得紧密型"):
        check_eligibility(cluster, Tier.DISTRICT_MODEL, on=next_day)
    assert check_eligibility(cluster, Tier.CLOSE_KNIT, on=next_day).tier == Tier.CLOSE_KNIT
    assert verify_certificate(certificate.serial, certificate.check_code, today=next_day).state == "expired"


def test_renewal_opens_180_days_before_and_certified_early_leaves_no_gap(standards):
    cluster = ClusterFactory()
    old = certificate_of(cluster, Tier.CLOSE_KNIT, date(2023, 3, 1), date(2026, 3, 1))

    with pytest.raises(NotEligible, match="2025-09-02"):  # 180 days before 2026-03-01
        check_eligibility(cluster, Tier.CLOSE_KNIT, on=date(2025, 9, 1))
    assert check_eligibility(cluster, Tier.CLOSE_KNIT, on=date(2025, 9, 2)).tier == Tier.CLOSE_KNIT

    renewal = ApplicationFactory(
        cluster=cluster, target_tier=Tier.CLOSE_KNIT, standard=standards[Tier.CLOSE_KNIT], status="publicity"
    )
    new = certify(renewal, today=date(2025, 12, 1))

    assert (new.renews, new.issued, new.valid_from, new.valid_until) == (
        old,
        date(2025, 12, 1),
        date(2026, 3, 2),  # the day after the old one ends
        date(2029, 3, 2),
    )
    cluster = fresh(cluster)
    for day in (date(2026, 3, 1), date(2026, 3, 2), date(2029, 3, 2)):
        assert tiers.current_tier(cluster, day) == Tier.CLOSE_KNIT
        assert sql_tier(cluster, day) == "close_knit"
    assert tiers.held_since(cluster, Tier.CLOSE_KNIT, date(2027, 1, 1)) == date(2023, 3, 1)  # one unbroken run
    assert tiers.current_tier(cluster, date(2029, 3, 3)) == Tier.NONE
    # A renewed certificate still expires (到期 is recorded) but the tier does not fall.
    assert tiers.expire_certificates(today=date(2026, 3, 2)) == 1
    line = TierChange.objects.get(cluster=cluster, reason=TierChange.Reason.EXPIRED)
    assert (line.from_tier, line.to_tier) == (Tier.CLOSE_KNIT, Tier.CLOSE_KNIT)
    # The next renewal continues the new certificate and opens 180 days before it ends.
    with pytest.raises(NotEligible, match="2028-09-03"):
        check_eligibility(fresh(cluster), Tier.CLOSE_KNIT, on=date(2026, 6, 1))


def test_renewal_certified_after_expiry_starts_on_its_issue_day(standards):
    cluster = ClusterFactory()
    old = certificate_of(cluster, Tier.CLOSE_KNIT, date(2023, 3, 1), date(2026, 3, 1))
    renewal = ApplicationFactory(
        cluster=cluster, target_tier=Tier.CLOSE_KNIT, standard=standards[Tier.CLOSE_KNIT], status="publicity"
    )

    new = certify(renewal, today=date(2026, 4, 1))

    assert (new.renews, new.valid_from, new.issued) == (None, None, date(2026, 4, 1))
    assert old.renewed_by_id is None if hasattr(old, "renewed_by_id") else True
    cluster = fresh(cluster)
    assert tiers.current_tier(cluster, date(2026, 3, 15)) == Tier.NONE  # the gap is real
    assert tiers.held_since(cluster, Tier.CLOSE_KNIT, date(2026, 5, 1)) == date(2026, 4, 1)


def test_expiry_reminders_go_once_each_at_90_and_30_days(standards):
    cluster = ClusterFactory()
    lead, office = lead_of(cluster), office_of(cluster.district)
    certificate = certificate_of(cluster, Tier.CLOSE_KNIT, date(2023, 3, 1), date(2026, 3, 1))
    end = certificate.valid_until

    sent = [tiers.send_expiry_reminders(today=end - timedelta(days=days)) for days in (120, 91, 90, 89, 31, 30, 10)]

    assert sent == [0, 0, 1, 0, 0, 1, 0]
    assert sorted(SentReminder.objects.values_list("key", "kind")) == [
        (f"certificate:{certificate.pk}:expiry:30", "expiry"),
        (f"certificate:{certificate.pk}:expiry:90", "expiry"),
    ]
    reminded = Notification.objects.filter(subject__startswith="证书")
    assert sorted((n.recipient_id, n.subject) for n in reminded) == sorted(
        (user.pk, f"证书将于 {days} 天后到期：{cluster.name}") for user in (lead, office) for days in (90, 30)
    )
    assert AuditEvent.objects.filter(action="certificate.expiry_reminded").count() == 2


def test_no_reminder_for_a_renewed_certificate_and_only_the_30_day_one_when_late(standards):
    cluster = ClusterFactory()
    old = certificate_of(cluster, Tier.CLOSE_KNIT, date(2023, 3, 1), date(2026, 3, 1))
    later = certificate_of(ClusterFactory(), Tier.CLOSE_KNIT, date(2023, 3, 1), date(2026, 3, 1))
    renewal = ApplicationFactory(
        cluster=cluster, target_tier=Tier.CLOSE_KNIT, standard=standards[Tier.CLOSE_KNIT], status="publicity"
    )
    certify(renewal, today=date(2025, 11, 1))

    assert tiers.send_expiry_reminders(today=date(2026, 2, 20)) == 1
    assert list(SentReminder.objects.values_list("key", flat=True)) == [f"certificate:{later.pk}:expiry:30"]
    assert old.pk != later.pk


def test_fire_timers_command_and_office_button_run_expiry_and_reminders(standards):
    today = timezone.localdate()
    cluster = ClusterFactory()
    office = office_of(cluster.district)
    lapsed = certificate_of(cluster, Tier.CLOSE_KNIT, today - timedelta(days=1200), today - timedelta(days=1))
    other = ClusterFactory(district=cluster.district)
    certificate_of(other, Tier.CLOSE_KNIT, today - timedelta(days=1000), today + timedelta(days=20))
    out = StringIO()

    call_command("fire_timers", stdout=out)

    assert "证书到期：1" in out.getvalue() and "到期提醒：1" in out.getvalue()
    lapsed.refresh_from_db()
    assert lapsed.end_reason == "expired"
    third = certificate_of(ClusterFactory(district=cluster.district), Tier.CLOSE_KNIT, today - timedelta(days=900),
                           today - timedelta(days=2))  # fmt: skip
    client = Client()
    client.force_login(office)
    assert client.post(reverse("work:fire_timers")).status_code == 302
    third.refresh_from_db()
    assert third.end_reason == "expired"


# ---------------------------------------------------------------------------------------------- downgrade, revoke


def test_revocation_then_an_application_for_the_next_tier_is_refused_with_the_reason(standards):
    cluster = ClusterFactory()
    leader = person(Role.DISTRICT_LEADER, region=cluster.district)
    close_knit = certificate_of(cluster, Tier.CLOSE_KNIT, date(2024, 1, 1))
    district = certificate_of(cluster, Tier.DISTRICT_MODEL, date(2024, 9, 1))
    day = date(2025, 10, 1)
    assert check_eligibility(fresh(cluster), Tier.CITY_MODEL, on=day).tier == Tier.CITY_MODEL

    line = tiers.revoke(cluster, by=leader, reason_text="年度评估发现数据造假，撤销区级示范性。", on=day)

    assert (line.from_tier, line.to_tier, line.reason) == (Tier.DISTRICT_MODEL, Tier.CLOSE_KNIT, "revoked")
    district.refresh_from_db()
    close_knit.refresh_from_db()
    assert (district.ended_on, district.end_reason, district.end_note) == (
        day,
        "revoked",
        "年度评估发现数据造假，撤销区级示范性。",
    )
    assert close_knit.ended_on is None
    cluster = fresh(cluster)
    assert (tiers.current_tier(cluster, day), sql_tier(cluster, day)) == (Tier.CLOSE_KNIT, "close_knit")
    assert tiers.current_tier(cluster, day - timedelta(days=1)) == Tier.DISTRICT_MODEL
    with pytest.raises(NotEligible) as refusal:
        check_eligibility(cluster, Tier.CITY_MODEL, on=day)
    message = str(refusal.value)
    assert "市级示范性申报须先取得区级示范性" in message
    assert "撤销" in message and "2025-10-01" in message and "数据造假" in message
    # The cluster may work its way up again.
    assert check_eligibility(cluster, Tier.DISTRICT_MODEL, on=day).tier == Tier.DISTRICT_MODEL
    assert AuditEvent.objects.filter(action="cluster.revoked", actor=leader).count() == 1
    assert verify_certificate(district.serial, district.check_code, today=day).state == "revoked"
    assert verify_certificate(district.serial, district.check_code, today=day).ended_on == day
    with pytest.raises(IllegalTransition):
        tiers.end_certificate(district, reason="expired", by=None, on=day)


def test_downgrade_keeps_the_named_tier_even_when_its_own_certificate_has_lapsed(standards):
    cluster = ClusterFactory()
    certificate_of(cluster, Tier.CLOSE_KNIT, date(2021, 1, 1), date(2024, 1, 1))  # lapsed
    district = certificate_of(cluster, Tier.DISTRICT_MODEL, date(2023, 6, 1))
    day = date(2025, 6, 1)

    with pytest.raises(IllegalTransition):
        tiers.downgrade(cluster, to_tier=Tier.CITY_MODEL, by=None, reason_text="—", on=day)
    tiers.downgrade(cluster, to_tier=Tier.CLOSE_KNIT, by=None, reason_text="整改逾期未完成，降为紧密型。", on=day)

    district.refresh_from_db()
    assert (district.ended_on, district.end_reason) == (day, "downgraded")
    cluster = fresh(cluster)
    for on in (day, date(2030, 1, 1)):
        assert (tiers.current_tier(cluster, on), sql_tier(cluster, on)) == (Tier.CLOSE_KNIT, "close_knit")
    assert tiers.current_tier(cluster, day - timedelta(days=1)) == Tier.DISTRICT_MODEL
    assert tiers.held_since(cluster, Tier.CLOSE_KNIT, day) == date(2021, 1, 1)
    assert check_eligibility(cluster, Tier.DISTRICT_MODEL, on=day).tier == Tier.DISTRICT_MODEL
    # Revoking the kept tier caps it: nothing is left.
    tiers.revoke(cluster, by=None, reason_text="撤销", on=date(2026, 1, 1))
    cluster = fresh(cluster)
    assert (tiers.current_tier(cluster, date(2026, 1, 1)), sql_tier(cluster, date(2026, 1, 1))) == (Tier.NONE, "none")


def test_revoking_a_set_up_tier_falls_one_rung(standards):
    cluster = ClusterFactory(current_tier=Tier.DISTRICT_MODEL)  # recorded at set-up, no certificate

    line = tiers.revoke(cluster, by=None, reason_text="撤销", on=date(2025, 1, 1))

    assert line.to_tier == Tier.CLOSE_KNIT
    cluster = fresh(cluster)
    assert (tiers.current_tier(cluster, date(2025, 1, 1)), sql_tier(cluster, date(2025, 1, 1))) == (
        Tier.CLOSE_KNIT,
        "close_knit",
    )
    with pytest.raises(IllegalTransition):
        tiers.revoke(ClusterFactory(), by=None, reason_text="撤销", on=date(2025, 1, 1))


# ---------------------------------------------------------------------------------------------- eligibility


def test_city_model_needs_district_model_held_one_whole_year_by_the_history(standards):
    cluster = ClusterFactory()
    certificate_of(cluster, Tier.CLOSE_KNIT, date(2022, 1, 1))
    certificate_of(cluster, Tier.DISTRICT_MODEL, date(2024, 9, 1))
    cluster = fresh(cluster)

    with pytest.raises(NotEligible, match="至少 1 年"):
        check_eligibility(cluster, Tier.CITY_MODEL, on=date(2025, 8, 31))
    assert check_eligibility(cluster, Tier.CITY_MODEL, on=date(2025, 9, 1)).tier == Tier.CITY_MODEL


def test_district_model_needs_a_valid_close_knit(standards):
    cluster = ClusterFactory()
    certificate_of(cluster, Tier.CLOSE_KNIT, date(2022, 1, 1), date(2025, 1, 1))
    cluster = fresh(cluster)

    assert check_eligibility(cluster, Tier.DISTRICT_MODEL, on=date(2025, 1, 1)).tier == Tier.DISTRICT_MODEL
    with pytest.raises(NotEligible, match="区级示范性申报须先取得紧密型"):
        check_eligibility(cluster, Tier.DISTRICT_MODEL, on=date(2025, 1, 2))


# ---------------------------------------------------------------------------------------------- SQL = Python


def test_sql_annotation_agrees_with_the_rows_on_every_day_of_a_busy_history(standards):
    cluster = ClusterFactory(current_tier=Tier.CLOSE_KNIT, current_tier__since=date(2019, 1, 1))
    certificate_of(cluster, Tier.DISTRICT_MODEL, date(2021, 1, 1), date(2024, 1, 1))
    certificate_of(cluster, Tier.DISTRICT_MODEL, date(2024, 1, 2), date(2027, 1, 2))
    tiers.downgrade(cluster, to_tier=Tier.CLOSE_KNIT, by=None, reason_text="降级", on=date(2025, 1, 1))
    tiers.revoke(cluster, by=None, reason_text="撤销", on=date(2025, 6, 1))
    certificate_of(cluster, Tier.CLOSE_KNIT, date(2026, 1, 1), date(2029, 1, 1))
    cluster = fresh(cluster)
    days = [date(2018, 12, 31) + timedelta(days=n * 30) for n in range(0, 130)]

    in_python = [holding.tier_on(cluster, day).value for day in days]
    in_sql = [sql_tier(cluster, day) for day in days]

    assert in_python == in_sql
    assert set(in_python) == {"none", "close_knit", "district_model"}


# ---------------------------------------------------------------------------------------------- pages and exports


def test_region_page_and_api_count_only_valid_tiers(standards):
    district = DistrictFactory(name="测试区")
    valid = ClusterFactory(district=district)
    certificate_of(valid, Tier.CLOSE_KNIT, timezone.localdate() - timedelta(days=10))
    lapsed = ClusterFactory(district=district)
    certificate_of(lapsed, Tier.CLOSE_KNIT, date(2020, 1, 1), date(2023, 1, 1))  # expired, never swept
    revoked = ClusterFactory(district=district)
    certificate_of(revoked, Tier.DISTRICT_MODEL, timezone.localdate() - timedelta(days=100))
    tiers.revoke(revoked, by=None, reason_text="撤销", on=timezone.localdate())
    client = Client()
    client.force_login(UserFactory())

    page = client.get(f"/reference/region/{district.pk}/detail/").content.decode()

    assert '<td>紧密型</td><td class="xq-num">1</td>' in page
    assert '<td>区级示范性</td><td class="xq-num">0</td>' in page
    assert '<td>新成立</td><td class="xq-num">2</td>' in page

    from tests.api.conftest import api_as

    lead = lead_of(valid)
    for cluster in (lapsed, revoked):
        from certification.domain.roles import grant_role

        grant_role(lead, Role.LEAD, cluster=cluster)
    api = api_as(lead)
    listed = api.get("/api/v1/clusters/", {"current_tier": "close_knit"}).json()
    assert [row["id"] for row in listed["results"]] == [valid.pk]
    everything = {row["id"]: row for row in api.get("/api/v1/clusters/").json()["results"]}
    assert {pk: (row["current_tier"], row["current_tier_display"]) for pk, row in everything.items()} == {
        valid.pk: ("close_knit", "紧密型"),
        lapsed.pk: ("none", "新成立"),
        revoked.pk: ("none", "新成立"),
    }
    assert everything[valid.pk]["tier_since"] == (timezone.localdate() - timedelta(days=10)).isoformat()


def test_cluster_list_page_runs_the_same_queries_for_one_and_many_clusters(standards):
    district = DistrictFactory()
    client = Client()
    client.force_login(UserFactory())
    _captured = []

    def queries():
        with CaptureQueriesContext(connection) as context:
            response = client.get("/reference/cluster/", {"district": district.pk})
        assert response.status_code == 200
        _captured.append(context.captured_queries)
        return len(context.captured_queries), response.content.decode()

    first = ClusterFactory(district=district)
    certificate_of(first, Tier.CLOSE_KNIT, date(2024, 1, 1))
    one, _page = queries()
    for n in range(6):
        cluster = ClusterFactory(district=district, current_tier=Tier.CLOSE_KNIT if n % 2 else Tier.NONE)
        certificate_of(cluster, Tier.CLOSE_KNIT, date(2023, 1, 1), date(2024, 1, 1))
    many, page = queries()

    assert one == many, "\n".join(q["sql"][:200] for q in _captured[-1])
    assert page.count("紧密型") >= 4  # 1 certified + 3 set-up; the lapsed certificates count for nothing
    filtered = client.get("/reference/cluster/", {"current_tier": "close_knit", "district": district.pk})
    assert filtered.content.decode().count("<tr") - 1 == 4


def test_certificate_page_shows_revoked_with_date_and_reason(standards):
    cluster = ClusterFactory()
    certificate = certificate_of(cluster, Tier.CLOSE_KNIT, timezone.localdate() - timedelta(days=100))
    day = timezone.localdate()
    tiers.revoke(cluster, by=None, reason_text="年度评估认定办学条件不达标。", on=day)
    client = Client()
    client.force_login(lead_of(cluster))

    page = client.get(f"/certificates/{certificate.pk}/").content.decode()

    assert '<dd data-field="state">已撤销</dd>' in page
    assert f'<dd data-field="ended_on">{day.year}年{day.month}月{day.day}日</dd>' in page
    assert '<dd data-field="end_reason">已撤销：年度评估认定办学条件不达标。</dd>' in page


def test_certificate_page_shows_expired_with_the_day_after_its_validity(standards):
    cluster = ClusterFactory()
    certificate = certificate_of(cluster, Tier.CLOSE_KNIT, date(2020, 1, 1), date(2023, 1, 1))
    client = Client()
    client.force_login(lead_of(cluster))

    before_the_job = client.get(f"/certificates/{certificate.pk}/").content.decode()
    tiers.expire_certificates()
    after_the_job = client.get(f"/certificates/{certificate.pk}/").content.decode()

    for page in (before_the_job, after_the_job):
        assert '<dd data-field="state">已过期</dd>' in page
        assert '<dd data-field="ended_on">2023年1月2日</dd>' in page
    assert '<dd data-field="end_reason">证书到期：有效期已于 2023-01-01 届满。</dd>' in after_the_job


def test_cluster_page_lists_each_certificate_with_its_state_and_agrees_with_the_tier(standards):
    cluster = ClusterFactory(name="状态学区")
    lapsed = certificate_of(cluster, Tier.CLOSE_KNIT, date(2020, 1, 1), date(2023, 1, 1))
    current = certificate_of(cluster, Tier.CLOSE_KNIT, timezone.localdate() - timedelta(days=30))
    revoked = certificate_of(cluster, Tier.DISTRICT_MODEL, timezone.localdate() - timedelta(days=20))
    tiers.revoke(cluster, by=None, reason_text="年度评估不合格。", on=timezone.localdate())
    client = Client()
    client.force_login(UserFactory())

    page = client.get(f"/reference/cluster/{cluster.pk}/detail/").content.decode()

    day = timezone.localdate().isoformat()
    assert f"<td>{lapsed.serial}</td>" in page and "已过期 · 自 2023-01-02 起" in page
    assert f"<td>{current.serial}</td>" in page and '<td data-field="state">有效</td>' in page
    assert f"<td>{revoked.serial}</td>" in page and f"已撤销 · 自 {day} 起（年度评估不合格。）" in page
    assert '<span class="xq-badge">紧密型</span>' in page  # the current tier, from the same rule


def test_admin_shows_the_derived_tier_read_only(standards):
    cluster = ClusterFactory(name="后台学区")
    certificate_of(cluster, Tier.CLOSE_KNIT, date(2025, 1, 1))
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)

    listed = client.get("/admin/certification/cluster/", {"o": "-5"})
    changed = client.get(f"/admin/certification/cluster/{cluster.pk}/change/")

    assert listed.status_code == changed.status_code == 200
    assert "紧密型" in listed.content.decode()
    page = changed.content.decode()
    assert "紧密型" in page and "2025-01-01" in page.replace("2025年1月1日", "2025-01-01")
