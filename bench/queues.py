"""The queues at district scale: each work page against the Django admin changelist of the same applications.

Runs only when DATABASE_URL names PostgreSQL (the scale the issue measures): it seeds ~10,000 applications and
~100,000 viewflow tasks — two applications made through the domain (one at formal review, one awaiting the
district leader's approval), bulk-cloned (`tests.factories.bulk`) — then times each page and the admin changelist
alternately (ABAB), REPEAT times, and prints median, min–max, the ratios of the medians and of the p95s, and the
queries, next to the goal (≤ 1.0× admin at p95, ≤ 20 queries). `python -m bench bench.queues '*'` runs it alone.
"""

import os
import statistics
import sys
import time

from bench import percentile

COPIES = int(os.environ.get("BENCH_QUEUE_COPIES", "5000"))  # per template: 2 × 5,000 = 10,000 applications
REPEAT = int(os.environ.get("BENCH_QUEUE_REPEAT", "21"))
QUERY_GOAL = 20


def _on_postgresql():
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


CASES = ["*"] if _on_postgresql() else []


def _seed():
    from django.urls import reverse

    from certification.domain.roles import ensure_groups
    from certification.models import Tier, User
    from tests.factories.bulk import clone_applications
    from tests.factories.workflow import build_world
    from tests.workflows.work_pages.helpers import to_approval, to_formal_review

    reverse("workflow:inbox")
    ensure_groups()
    world = build_world(Tier.CLOSE_KNIT)
    formal, _process = to_formal_review(world)
    approval, process = to_approval(world, *_another_cluster(world))
    started = time.perf_counter()
    clone_applications(formal, COPIES, finished_tasks=True)
    clone_applications(approval, COPIES, finished_tasks=True)
    seconds = time.perf_counter() - started
    from tests.workflows.driver import PASSWORD, open_task, take
    from workflows.flows import CertificationFlow

    # The leader takes the original's decision (after cloning, so the clones' tasks stay in the queue): the
    # approval task page is its form.
    decision = open_task(process, CertificationFlow.district_decision)
    take(world.leader, decision)
    decision_url = CertificationFlow.district_decision.reverse("execute", args=[process.pk, decision.pk])
    admin = User.objects.create_superuser("bench-admin", "bench@example.org", PASSWORD)
    return world, approval, decision_url, admin, seconds


def _another_cluster(world):
    from certification.models import Role
    from tests.factories import ClusterFactory, MembershipFactory
    from tests.factories.workflow import person

    cluster = ClusterFactory(district=world.district, current_tier=world.cluster.current_tier)
    MembershipFactory(cluster=cluster)
    return cluster, person(Role.LEAD, cluster=cluster)


def _timed(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        started = time.perf_counter()
        response = client.get(url)
        seconds = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return seconds, len(context.captured_queries)


def run():
    # The test settings: the test client signs in without a request, which sign-in throttling (axes) refuses.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings_test")
    from bench import setup_database

    setup_database()
    from django.db import connection
    from django.urls import reverse
    from viewflow.workflow.models import Task

    from certification.models import Application
    from tests.workflows.driver import client_for

    world, approval, decision_url, admin, seed_seconds = _seed()
    applications, tasks = Application.objects.count(), Task.objects.count()
    with connection.cursor() as cursor:
        # As autovacuum leaves a table in production: statistics and the visibility map (index-only scans).
        cursor.execute("VACUUM ANALYZE")
    admin_client = client_for(admin)
    admin_url = reverse("admin:certification_application_changelist")
    pages = [
        ("审批队列 (district leader)", client_for(world.leader), reverse("work:approvals")),
        ("office desk (district office)", client_for(world.office), reverse("work:office")),
        ("评审任务 (evaluator)", client_for(world.evaluators[0]), reverse("work:reviews")),
        ("申报列表 (district office)", client_for(world.office), reverse("work:application_list")),
        (
            "申报列表, search + sort",
            client_for(world.office),
            f"{reverse('work:application_list')}?q=00042&order=-cluster_name",
        ),
        ("viewflow queue (office)", client_for(world.office), reverse("workflow:queue")),
        ("viewflow inbox (leader)", client_for(world.leader), reverse("workflow:inbox")),
        ("dossier (district leader)", client_for(world.leader), reverse("work:application_detail", args=[approval.pk])),
        ("approval task page (district leader)", client_for(world.leader), decision_url),
    ]
    lines = [
        f"queues: {applications} applications, {tasks} tasks (seeded in {seed_seconds:.0f} s), ABAB × {REPEAT}",
        f"{'page':<34} {'median ms':>9} {'min–max ms':>15} {'admin med':>9} {'ratio':>6} {'p95 ratio':>9} {'goal':>5} "
        f"{'queries':>7}",
    ]
    results = []
    for label, client, url in pages:
        _timed(client, url)
        _timed(admin_client, admin_url)  # warm both
        ours, theirs, queries = [], [], 0
        for _ in range(REPEAT):
            seconds, queries = _timed(client, url)
            ours.append(seconds)
            theirs.append(_timed(admin_client, admin_url)[0])
        median, admin_median = statistics.median(ours), statistics.median(theirs)
        ratio = median / admin_median
        # The goal is on the p95: each side's 95th percentile (nearest rank) over the same repetitions.
        p95_ratio = percentile(ours, 0.95) / percentile(theirs, 0.95)
        lines.append(
            f"{label:<34} {median * 1000:>9.1f} {min(ours) * 1000:>7.1f}–{max(ours) * 1000:<7.1f} "
            f"{admin_median * 1000:>9.1f} {ratio:>5.2f}× {p95_ratio:>8.2f}× {'1.0×':>5} {queries:>4}/{QUERY_GOAL}"
        )
        results.append((f"queues: {label} ({queries} queries, {ratio:.2f}× admin, p95 {p95_ratio:.2f}×)", median, 0))
    print("\n".join(lines), file=sys.stderr)
    return results
