"""Benchmark: one human-task transition (POST) against a bare viewflow View task's POST on the same database.

"ours" is the district office recording a passed formal review (形式审查 通过): TaskView's checks (the process lock,
the task, the application under lock, the object permission), the domain step (status, audit chain row, the
notifications to the lead and the deciding office), then viewflow completes the task, passes the If gate and opens
the evaluator-assignment task with its due date and out-of-office check.
"viewflow" is viewflow alone: `BareFlow.approve` (bench/bare_flow.py), a `flow.View` with viewflow's own UpdateProcessView (it saves
the process row) whose completion opens the next View task, in a flow under the same lock (select_for_update).

Both cases seed the same database (the world of tests.factories.workflow, BENCH_TRANSITIONS applications at formal
review with the task assigned to the office, and as many bare processes), sign the same office user in, and time
only their own POSTs, one per process. ``python -m bench.abab bench.transition`` alternates them in fresh
processes (see bench/abab.py); the SQL each POST runs is counted too. SQLite unless DATABASE_URL says otherwise.
"""

import os
import time

TRANSITIONS = int(os.environ.get("BENCH_TRANSITIONS", "10"))
CASES = ["ours", "viewflow"]
GOAL = 1.5  # issue 11: at most 1.5× the bare viewflow View task


def _seed():
    """The world, TRANSITIONS + 1 formal reviews assigned to the office, and as many bare `approve` tasks."""
    from django.urls import reverse

    from bench import bare_flow
    from certification.domain.roles import ensure_groups
    from certification.models import Tier
    from tests.factories.workflow import build_world
    from tests.workflows.driver import client_for, open_task
    from tests.workflows.work_pages.helpers import another_cluster, to_formal_review
    from workflows.flows import CertificationFlow as F

    reverse("workflow:inbox")
    ensure_groups()
    world = build_world(Tier.CLOSE_KNIT)
    office = world.office
    client = client_for(office)
    ours = []
    for number in range(TRANSITIONS + 1):
        _application, process = to_formal_review(world, *(another_cluster(world) if number else ()))
        task = open_task(process, F.formal_review)
        response = client.post(F.formal_review.reverse("assign", args=[process.pk, task.pk]))
        assert response.status_code == 302, response.status_code
        ours.append(F.formal_review.reverse("execute", args=[process.pk, task.pk]))
    office.username = bare_flow.OWNER
    office.save(update_fields=["username"])
    bare = []
    for _number in range(TRANSITIONS + 1):
        process = bare_flow.BareFlow.start.run()
        task = process.task_set.get(flow_task=bare_flow.BareFlow.approve)
        bare.append(reverse("bare:approve:execute", args=[process.pk, task.pk]))
    return client, ours, bare


def _post_all(client, urls, data):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queries = []
    for url in urls:
        with CaptureQueriesContext(connection) as context:
            response = client.post(url, data)
        assert response.status_code == 302, (url, response.status_code, response.content.decode()[:500])
        queries.append(len(context.captured_queries))
    return queries


def run_case(case):
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.transition_settings"
    from bench import setup_database

    setup_database()
    client, ours, bare = _seed()
    if case == "ours":
        urls, data, label = (
            ours,
            {"decision": "pass", "comment": "材料齐全"},
            "formal review passed (TaskView + domain)",
        )
    else:
        urls, data, label = bare, {}, "bare viewflow View task (UpdateProcessView)"
    _post_all(client, urls[:1], data)  # untimed: the first POST of a process pays for imports and caches
    wall, cpu = time.perf_counter(), time.process_time()
    queries = _post_all(client, urls[1:], data)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "label": f"{label}: {TRANSITIONS} POSTs",
        "seconds": wall,
        "cpu": cpu,
        "peak": 0,
        "queries": queries[0],
        "note": f"{queries[0]} queries per POST; {wall / TRANSITIONS * 1000:.1f} ms wall per POST",
    }
