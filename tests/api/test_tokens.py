"""Personal API tokens: created on the profile page and shown once, stored hashed, refused at once when revoked;
a token acts with its owner's current roles, so a revoked role is gone on the next request."""

import hashlib

import pytest
from django.test import Client
from rest_framework.test import APIClient

from certification.domain.roles import revoke_role
from certification.models import ApiToken, AuditEvent, RoleGrant, Tier
from tests.factories.workflow import build_world
from tests.workflows.driver import PASSWORD, start

from .conftest import api_as, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = build_world(Tier.CLOSE_KNIT)
    world.application, world.process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    return world


def _bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_token_created_on_profile_page_is_shown_once_and_stored_hashed(world):
    page = Client()
    assert page.login(username=world.lead.username, password=PASSWORD)

    created = page.post("/accounts/api-tokens/", {"name": "人事系统"})

    assert created.status_code == 201
    token = ApiToken.objects.get(user=world.lead)
    secret = created.context["secret"]
    assert secret.startswith("xqrz_") and secret in created.content.decode()
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (token.name, token.prefix, token.digest) and secret.startswith(token.prefix)
    again = page.get("/accounts/api-tokens/").content.decode()
    assert secret not in again and token.prefix in again and "人事系统" in again
    assert AuditEvent.objects.filter(action="api_token.created", actor=world.lead).count() == 1
    assert _bearer(secret).get(f"/api/v1/applications/{world.application.pk}/").json()["id"] == world.application.pk


def test_profile_page_refuses_a_token_without_a_name(world):
    page = Client()
    page.force_login(world.lead)

    response = page.post("/accounts/api-tokens/", {"name": "  "})

    assert response.status_code == 400
    assert ApiToken.objects.count() == 0


def test_revoked_token_is_refused_on_the_next_request(world):
    secret = token_for(world.lead)
    client = _bearer(secret)
    assert client.get("/api/v1/applications/").json()["count"] == 1
    page = Client()
    page.force_login(world.lead)
    token = ApiToken.objects.get(user=world.lead)

    revoked = page.post(f"/accounts/api-tokens/{token.pk}/revoke/")

    assert revoked.status_code == 302
    refused = client.get("/api/v1/applications/")
    assert refused.status_code == 401
    assert refused.json() == {"code": "authentication_failed", "message": "API 令牌无效或已撤销。"}
    assert refused["WWW-Authenticate"] == "Bearer"
    token.refresh_from_db()
    assert token.revoked is not None
    assert AuditEvent.objects.filter(action="api_token.revoked", actor=world.lead).count() == 1


def test_nobody_revokes_another_persons_token(world):
    secret = token_for(world.lead)
    token = ApiToken.objects.get(user=world.lead)
    page = Client()
    page.force_login(world.office)

    response = page.post(f"/accounts/api-tokens/{token.pk}/revoke/")

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked is None
    assert _bearer(secret).get("/api/v1/applications/").status_code == 200


def test_token_of_a_user_whose_role_was_revoked_loses_access_on_the_next_request(world):
    client = api_as(world.lead)
    task = client.get("/api/v1/tasks/").json()["results"][0]
    assert client.get(f"/api/v1/applications/{world.application.pk}/").status_code == 200

    revoke_role(RoleGrant.objects.get(user=world.lead, role="lead"), by=world.office)

    assert client.get("/api/v1/applications/").json()["count"] == 0
    assert client.get(f"/api/v1/applications/{world.application.pk}/").status_code == 404
    assert client.get("/api/v1/tasks/").json()["count"] == 0
    assert client.post(f"/api/v1/tasks/{task['id']}/claim/").status_code == 404


def test_token_of_a_deactivated_user_is_refused(world):
    client = api_as(world.lead)
    world.lead.is_active = False
    world.lead.save(update_fields=["is_active"])

    assert client.get("/api/v1/applications/").status_code == 401


def test_unknown_token_and_no_token_are_refused_with_a_code():
    assert _bearer("xqrz_not-a-token").get("/api/v1/regions/").json()["code"] == "authentication_failed"
    anonymous = APIClient().get("/api/v1/regions/")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"


def test_rate_limit_is_per_token(world, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "2/minute"}}
    first, second = api_as(world.lead), api_as(world.lead)

    statuses = [first.get("/api/v1/regions/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert first.get("/api/v1/regions/").json()["code"] == "throttled"
    assert second.get("/api/v1/regions/").status_code == 200


def test_browser_session_works_and_writes_need_the_csrf_token(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.lead)

    assert client.get("/api/v1/applications/").json()["count"] == 1
    refused = client.post("/api/v1/applications/", {"cluster": world.cluster.pk, "target_tier": "close_knit"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
