"""The derived tier at district scale: 10,000 clusters, their certificates and tier history, on PostgreSQL.

Seeds CLUSTERS clusters in one district (bulk): a third with a set-up line only, a third with a valid certificate
over a lapsed one, a third with a certificate ended by a revocation. Then times, REPEAT times each (median):
- the region page's count by valid tier (`with_tier()` grouped, one query);
- the API's cluster list filtered by tier (count + one page of 25 with "held since": constant queries);
- the same derivation in Python over prefetched rows, to check SQL and Python agree on every cluster.
`python -m bench bench.tiers '*'` runs it alone (DATABASE_URL must name PostgreSQL).
"""

import os
import statistics
import sys
import time
from datetime import date, timedelta

CLUSTERS = int(os.environ.get("BENCH_TIER_CLUSTERS", "10000"))
REPEAT = int(os.environ.get("BENCH_TIER_REPEAT", "7"))


def _on_postgresql():
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


CASES = ["*"] if _on_postgresql() else []


def _seed():
    from certification.models import Application, Certificate, Cluster, Tier, TierChange
    from tests.factories import DistrictFactory, UserFactory, published_standard

    district = DistrictFactory(name="基准区")
    standard = published_standard(Tier.CLOSE_KNIT)
    user = UserFactory()
    clusters = Cluster.objects.bulk_create(
        [Cluster(name=f"基准学区{n:05d}", kind="xuequ", district=district) for n in range(CLUSTERS)]
    )
    today = date.today()
    lines, applications = [], []
    for n, cluster in enumerate(clusters):
        if n % 3 == 0:
            lines.append(TierChange(cluster=cluster, from_tier="none", to_tier="close_knit", reason="initial",
                                    effective=date(2019, 1, 1)))  # fmt: skip
        else:
            for _ in range(2):
                applications.append(Application(cluster=cluster, target_tier="close_knit", standard=standard,
                                                year=2024, status="certified", opened_by=user))  # fmt: skip
    applications = Application.objects.bulk_create(applications)
    certificates = []
    for index, application in enumerate(applications):
        n = index // 2
        lapsed = index % 2 == 0  # each cluster: a lapsed certificate, then a current one (every other revoked)
        issued = today - timedelta(days=2000 if lapsed else 200)
        certificates.append(
            Certificate(
                serial=f"BENCH-{index:06d}",
                application=application,
                cluster=application.cluster,
                tier="close_knit",
                standard=standard,
                issued=issued,
                valid_until=issued + timedelta(days=3 * 365),
                check_code="0" * 64,
                ended_on=(today - timedelta(days=10)) if (not lapsed and n % 2 == 1) else None,
                end_reason="revoked" if (not lapsed and n % 2 == 1) else "",
            )
        )
    Certificate.objects.bulk_create(certificates)
    TierChange.objects.bulk_create(lines)
    return district


def _median(function):
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run():
    from bench import setup_database

    setup_database()
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from certification.models import Cluster, holding

    district = _seed()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    clusters = Cluster.objects.filter(district=district)

    def counts():
        return dict(clusters.with_tier().order_by().values_list("tier_rank").annotate(n=Count("id")))

    def page():
        rows = list(clusters.with_tier().with_tier_history().filter(current_tier="close_knit").order_by("id")[:25])
        clusters.with_tier().filter(current_tier="close_knit").count()
        return [(row.current_tier, row.tier_since) for row in rows]

    with CaptureQueriesContext(connection) as counted:
        by_tier = counts()
    with CaptureQueriesContext(connection) as paged:
        page()
    count_seconds, page_seconds = _median(counts), _median(page)
    # PostgreSQL's JIT compiles these (high estimated cost: one correlated subquery per cluster) for seconds; an
    # OLTP site usually runs with jit = off. Measured both ways.
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    count_nojit, page_nojit = _median(counts), _median(page)
    everything = list(clusters.with_tier().with_tier_history())
    disagree = sum(1 for row in everything if holding.tier_on(row).value != row.__dict__["_annotated_tier"])
    lines = [
        f"tiers: {CLUSTERS} clusters, counts by valid tier {by_tier}",
        f"region count by tier: median {count_seconds * 1000:.1f} ms (jit off {count_nojit * 1000:.1f} ms), "
        f"{len(counted.captured_queries)} query",
        f"list page of 25 filtered by tier (+count): median {page_seconds * 1000:.1f} ms "
        f"(jit off {page_nojit * 1000:.1f} ms), {len(paged.captured_queries)} queries",
        f"SQL and Python disagree on {disagree} of {len(everything)} clusters",
    ]
    print("\n".join(lines), file=sys.stderr)
    return [
        (f"tiers: region count by tier ({len(counted.captured_queries)} query)", count_seconds, 0),
        ("tiers: region count by tier, jit off", count_nojit, 0),
        (f"tiers: list page 25 + count ({len(paged.captured_queries)} queries)", page_seconds, 0),
        ("tiers: list page 25 + count, jit off", page_nojit, 0),
    ]
