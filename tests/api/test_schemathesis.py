"""schemathesis, a client no one here wrote, against the live schema of the WSGI app, with a token per role.

Every operation gets generated requests (random ids, and the ids of real objects so requests reach the code
behind the 404s); every response must be no server error and must match the schema: status code, content type,
body and headers. The failures are collected over the whole run and must be none.

Then the stateful run: schemathesis's state machine over the schema's OpenAPI links (`workflows.api.schema.add_links`)
chains calls the way a client does (open an application, list its requirements, upload to one, withdraw the file;
list tasks, claim one, complete it), each role with its own token, under the same checks.
"""

import datetime
import os
from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from certification.domain.datasets import start_import
from certification.domain.roles import grant_role
from certification.models import ClusterMembership, EvidenceFile, EvidenceRequirement, Role, Tier
from tests.factories import ClusterFactory, SchoolFactory
from tests.factories.datasets import computed_standard, data_application, load_rows, workbook_bytes, xlsx_upload
from tests.factories.workflow import build_world, upload_all_evidence
from tests.workflows.driver import start

from .conftest import token_for

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Examples per operation and role; SCHEMATHESIS_EXAMPLES raises it for a longer run.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
# Scenarios per role of the stateful run, and the most calls in one; SCHEMATHESIS_SCENARIOS raises it.
SCENARIOS = int(os.environ.get("SCHEMATHESIS_SCENARIOS", "8"))
STEPS = 10


@pytest.fixture
def wsgi_app(populated):
    # The test's transaction must survive the requests: do what Django's test client does. After `populated`,
    # whose test-client requests connect the receiver again when they finish.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def populated(settings):
    """Two applications in their evidence stage, one of the workflow's standard with files and a queued task, one
    of a computed standard with data rows and a refused import; each role with its token."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "100000/hour"}}
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    # A cluster of the lead's with no application yet: opening one succeeds once and its links can be followed.
    fresh = ClusterFactory(district=world.district, current_tier=world.cluster.current_tier)
    ClusterMembership.objects.create(cluster=fresh, school=SchoolFactory(district=world.district), role="lead")
    grant_role(world.lead, Role.LEAD, cluster=fresh)
    data_cluster = ClusterFactory(district=world.district)
    lead_school, member_school = SchoolFactory(district=world.district), SchoolFactory(district=world.district)
    ClusterMembership.objects.create(cluster=data_cluster, school=lead_school, role=ClusterMembership.Role.LEAD)
    ClusterMembership.objects.create(cluster=data_cluster, school=member_school)
    grant_role(world.lead, Role.LEAD, cluster=data_cluster)
    data = data_application(data_cluster, computed_standard(("backbone_share_same_stage", "gte", "0.20")))
    load_rows(data, "rotation", [_rotation_row(lead_school, member_school, backbone=n < 2) for n in range(5)])
    start_import(data, "rotation", xlsx_upload(workbook_bytes("rotation", [["?"]])), by=world.lead)
    task = process.task_set.filter(status__in=["NEW", "ASSIGNED"]).order_by("pk").first()
    real = [
        {
            "application_pk": app.pk,
            "requirement_pk": EvidenceRequirement.objects.filter(indicator__dimension__standard=app.standard)
            .order_by("pk")
            .first()
            .pk,
            "code": "rotation",
            "evidence": EvidenceFile.objects.filter(application=app).order_by("pk").first(),
            "task": task.pk,
        }
        for app in (application, data)
    ]
    roles = {"lead": world.lead, "office": world.office, "leader": world.leader, "evaluator": world.evaluators[0]}
    return real, {role: token_for(user) for role, user in roles.items()}


def _rotation_row(from_school, to_school, *, backbone):
    return {
        "teacher": "教师",
        "from_school": from_school,
        "to_school": to_school,
        "from_stage": "primary",
        "to_stage": "primary",
        "backbone": backbone,
        "start_date": datetime.date(2025, 9, 1),
        "term_years": 3,
        "year": 2025,
    }


def _real_parameters(operation, ids):
    """Path parameters naming real objects, for the operations that take them."""
    names = {parameter.name for parameter in operation.path_parameters}
    real = {name: ids[name] for name in ("application_pk", "requirement_pk", "code") if name in names}
    if "id" in names:
        if operation.path.startswith("/api/v1/tasks/"):
            real["id"] = ids["task"]
        elif "/evidence/" in operation.path and ids["evidence"] is not None:
            real["id"] = ids["evidence"].pk
        elif operation.path.startswith("/api/v1/applications/{id}"):
            real["id"] = ids["application_pk"]
    return real


def _runner(strategy, headers, label, record):
    """One hypothesis run of `strategy`: each case called with `headers`, its failures passed to `record`."""

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        try:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, FailureGroup) as failure:
            titles = sorted({f"{f.title}: {f.message:.300}" for f in getattr(failure, "exceptions", [])}) or [
                repr(failure)
            ]
            record(f"{label} {case.method} {case.path} {titles} ({case.formatted_path} {case.query})")
        else:
            record(None)

    return run


def test_schemathesis_finds_no_server_error_and_no_response_off_schema(wsgi_app, populated):
    real, tokens = populated
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app)
    outcomes = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategy = operation.as_strategy()
        for ids in real:
            parameters = _real_parameters(operation, ids)
            if parameters:
                strategy = st.one_of(strategy, operation.as_strategy(path_parameters=parameters))
        for role, secret in tokens.items():
            _runner(strategy, {"Authorization": f"Bearer {secret}"}, role, outcomes.append)()
    failures = sorted({outcome for outcome in outcomes if outcome is not None})
    assert operations == 30
    assert len(outcomes) > operations * len(tokens) * 3
    assert failures == [], "\n".join(failures)


def _describe(label, case, failure):
    titles = sorted({f"{f.title}: {f.message:.300}" for f in getattr(failure, "exceptions", [])}) or [repr(failure)]
    return f"{label} {case.method} {case.path} {titles} ({case.formatted_path} {case.query})"


def test_stateful_schemathesis_follows_the_links_with_no_server_error_and_no_response_off_schema(wsgi_app, populated):
    _real, tokens = populated
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app)
    # Only the schema's own links: schemathesis's guessed ones would spend the few scenarios elsewhere.
    schema.config.phases.stateful.inference.algorithms = []
    base = schema.as_state_machine()
    outcomes, followed = [], Counter()

    class Machine(base):
        role = headers = None

        def step(self, input):
            if input.transition is not None and input.is_applied:
                followed[input.transition.id] += 1
            elif input.transition is None and input.case.method == "GET":
                # A scenario opens with a plain list: random filters and page numbers (the stateless run's job)
                # mostly answer an empty page or a 404, and nothing would follow.
                input.case.query = {}
            return super().step(input)

        def get_call_kwargs(self, case):
            return {"headers": self.headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                case.validate_response(response, checks=CHECKS, headers=self.headers)
            except (Exception, FailureGroup) as failure:
                outcomes.append(_describe(self.role, case, failure))
            else:
                outcomes.append(None)

    for role, secret in tokens.items():
        machine = type(
            f"{role.title()}Machine", (Machine,), {"role": role, "headers": {"Authorization": f"Bearer {secret}"}}
        )
        machine.run(
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
        )

    failures = sorted({outcome for outcome in outcomes if outcome is not None})
    print(f"stateful: {len(outcomes)} calls, {sum(followed.values())} through links, {len(followed)} links", followed)
    assert failures == [], "\n".join(failures)
    assert len(outcomes) >= len(tokens) * SCENARIOS
    # The links are followed, not only declared: calls made with values taken from an earlier response.
    assert sum(followed.values()) >= len(tokens) * 2, followed
    assert len(followed) >= 6, followed
    # ...and chains go past the first hop to a write: claim or complete a listed task, withdraw a listed file.
    assert [link for link in followed if "-> POST " in link], followed
