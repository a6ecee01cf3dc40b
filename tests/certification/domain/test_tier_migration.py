"""The stored tier columns are dropped without loss: what they said becomes tier-history lines the derivation reads."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from certification.domain import tiers
from certification.models import Cluster, Tier, TierChange

BEFORE = [("certification", "0023_every_import_has_cluster_and_school_year")]


@pytest.mark.django_db(transaction=True)
def test_stored_tiers_become_set_up_lines_and_derive_the_same_tier():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Region = old.get_model("certification", "Region")
    OldCluster = old.get_model("certification", "Cluster")
    OldTierChange = old.get_model("certification", "TierChange")
    city = Region.objects.create(name="迁移市", kind="city")
    district = Region.objects.create(name="迁移区", kind="district", parent=city)
    set_up = OldCluster.objects.create(
        name="设立时紧密型", kind="xuequ", district=district, current_tier="district_model", tier_since=date(2022, 9, 1)
    )
    recorded = OldCluster.objects.create(
        name="已有记录", kind="xuequ", district=district, current_tier="close_knit", tier_since=date(2021, 1, 1)
    )
    OldTierChange.objects.create(
        cluster=recorded, from_tier="none", to_tier="close_knit", reason="initial", effective=date(2021, 1, 1)
    )
    new = OldCluster.objects.create(name="新成立", kind="xuequ", district=district)

    # Forward through 0024_tier_derived_certificate_end to the newest migration: the tests after this one need
    # every table back (on PostgreSQL a table dropped on the way back stays dropped).
    executor = MigrationExecutor(connection)
    executor.migrate(latest)

    lines = TierChange.objects.filter(cluster__district_id=district.pk).order_by("cluster__name", "effective")
    assert sorted((line.cluster.name, line.to_tier, line.reason, line.effective) for line in lines) == [
        ("已有记录", "close_knit", "initial", date(2021, 1, 1)),
        ("设立时紧密型", "district_model", "initial", date(2022, 9, 1)),
    ]
    today = date(2026, 1, 1)
    assert {
        cluster.name: (tiers.current_tier(cluster, today), tiers.held_since(cluster, cluster.current_tier, today))
        for cluster in Cluster.objects.filter(pk__in=[set_up.pk, recorded.pk, new.pk])
    } == {
        "设立时紧密型": (Tier.DISTRICT_MODEL, date(2022, 9, 1)),
        "已有记录": (Tier.CLOSE_KNIT, date(2021, 1, 1)),
        "新成立": (Tier.NONE, None),
    }
