"""Sign-in throttling (django-axes): lockout per username and per address, the Chinese refusal, unlock, audit."""

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from certification.models import AuditEvent
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db]

PASSWORD = "right-password-2026"
LOCKED = "登录失败次数过多，已暂停登录 15 分钟。请稍后再试，或请管理员解锁。"


@pytest.fixture(autouse=True)
def throttling():
    cache.clear()
    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5):
        yield


@pytest.fixture
def lead():
    user = UserFactory(username="lead_tianping")
    user.set_password(PASSWORD)
    user.save()
    return user


def _sign_in(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_right_password_after_five_failures_is_refused_with_the_wait(client, lead):
    answered = [_sign_in(client, "lead_tianping", "wrong").status_code for _ in range(5)]

    response = _sign_in(client, "lead_tianping", PASSWORD)

    # The fifth failure is the one that locks: it already gets the lockout page.
    assert answered == [200, 200, 200, 200, 429]

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failures_then_the_right_password_signs_in(client, lead):
    for _ in range(4):
        _sign_in(client, "lead_tianping", "wrong")

    response = _sign_in(client, "lead_tianping", PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(lead.pk)


def test_username_is_locked_from_every_address(client, lead):
    for n in range(5):
        _sign_in(client, "lead_tianping", "wrong", address=f"10.0.1.{n}")

    response = _sign_in(client, "lead_tianping", PASSWORD, address="10.0.2.1")

    assert response.status_code == 429


def test_address_is_locked_for_every_username(client, lead):
    for n in range(5):
        _sign_in(client, f"guess{n}", "wrong", address="10.0.3.1")

    refused = _sign_in(client, "lead_tianping", PASSWORD, address="10.0.3.1")
    elsewhere = _sign_in(client, "lead_tianping", PASSWORD, address="10.0.3.2")

    assert refused.status_code == 429
    assert elsewhere.status_code == 302


def test_lockout_is_audited_once(client, lead):
    for _ in range(8):
        _sign_in(client, "lead_tianping", "wrong")

    events = list(AuditEvent.objects.filter(action="login.locked_out"))

    assert len(events) == 1
    assert (events[0].object_id, events[0].actor) == (str(lead.pk), None)
    assert events[0].payload == {"username": "lead_tianping", "ip_address": "10.0.0.1", "cool_off_minutes": 15}


def test_administrator_unlock_lets_the_user_sign_in(client, lead):
    for _ in range(5):
        _sign_in(client, "lead_tianping", "wrong")
    assert _sign_in(client, "lead_tianping", PASSWORD).status_code == 429

    call_command("axes_reset_username", "lead_tianping")
    call_command("axes_reset_ip", "10.0.0.1")

    assert not AccessAttempt.objects.exists()
    assert _sign_in(client, "lead_tianping", PASSWORD).status_code == 302


def test_administrator_sees_and_can_delete_attempts_in_the_admin(client, lead):
    for _ in range(5):
        _sign_in(client, "lead_tianping", "wrong")
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)

    listing = client.get(reverse("admin:axes_accessattempt_changelist"))

    assert listing.status_code == 200
    assert "lead_tianping" in listing.content.decode()
