"""The token page in a real browser: create a token, see its secret once, use it, revoke it; the API docs render."""

from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from certification.models import ApiToken
from tests.factories import UserFactory

ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"

pytestmark = pytest.mark.django_db(transaction=True)


def test_token_page_shows_the_secret_once_and_revokes(browser, live_server):
    user = UserFactory(display_name="区人事系统管理员")
    user.set_password("correct-horse-battery")
    user.save()
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "correct-horse-battery")
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    page.goto(f"{live_server.url}/accounts/api-tokens/")
    page.fill("input[name=name]", "人事系统")
    page.get_by_role("button", name="创建").click()
    page.wait_for_load_state("networkidle")
    secret = page.locator(".xq-tok__secret").inner_text().strip()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "api-token-created.png"), full_page=True)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/regions/").status_code == 200
    page.goto(f"{live_server.url}/accounts/api-tokens/")
    assert secret not in page.content()
    assert "请立即复制" not in page.content()
    page.get_by_role("button", name="撤销").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-test=tokens] tbody tr td").last.inner_text().endswith("撤销")
    assert ApiToken.objects.get(user=user).revoked is not None
    assert client.get("/api/v1/regions/").status_code == 401

    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert "从待办队列认领任务" in page.content()
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    context.close()
