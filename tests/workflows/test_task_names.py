"""A task is named in words where viewflow showed numbers: the message after claiming it, and the breadcrumbs of
its pages ("天平-湖南学区 紧密型申报 · 形式审查", not "任务 #80")."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from certification.domain.roles import ensure_groups
from certification.models import Tier
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for, open_task
from tests.workflows.work_pages.helpers import to_formal_review
from workflows.flows import CertificationFlow as F

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def role_groups(db):
    reverse("workflow:inbox")
    return ensure_groups()


def breadcrumbs(page):
    block = re.search(r'<h2 class="vf-card__breadcrumbs">(.*?)</h2>', page, re.S).group(1)
    return [re.sub(r"\s+", " ", text).strip() for text in re.findall(r"<a[^>]*>(.*?)</a>", block, re.S)]


@pytest.mark.parametrize(
    ("steps", "said"),
    [(["assign"], "已认领"), (["assign", "unassign"], "已放弃认领")],
    ids=["claim", "release"],
)
def test_claim_and_release_messages_name_application_and_task(steps, said):
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    task = open_task(process, F.formal_review)
    client = client_for(world.office)
    *before, last = steps
    for step in before:
        client.post(F.formal_review.reverse(step, args=[process.pk, task.pk]))
        list(get_messages(client.get(reverse("work:office")).wsgi_request))  # that step's message, read

    response = client.post(F.formal_review.reverse(last, args=[process.pk, task.pk]))

    assert response.status_code == 302
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        f"{said}：{world.cluster.name} 紧密型申报 · 形式审查"
    ]


def test_task_pages_breadcrumbs_name_application_not_numbers():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_formal_review(world)
    task = open_task(process, F.formal_review)
    client = client_for(world.office)
    label = f"{world.cluster.name} 紧密型申报"
    dossier = reverse("work:application_detail", args=[application.pk])
    confirm = client.get(F.formal_review.reverse("assign", args=[process.pk, task.pk]))
    assert confirm.status_code == 200
    assert breadcrumbs(confirm.content.decode()) == ["学区（集团）认证", label, "形式审查", "认领"]
    client.post(F.formal_review.reverse("assign", args=[process.pk, task.pk]))

    execute = client.get(F.formal_review.reverse("execute", args=[process.pk, task.pk]))
    detail = client.get(F.formal_review.reverse("detail", args=[process.pk, task.pk]))

    assert (execute.status_code, detail.status_code) == (200, 200)
    assert breadcrumbs(execute.content.decode()) == ["学区（集团）认证", label, "形式审查", "办理"]
    assert breadcrumbs(detail.content.decode()) == ["学区（集团）认证", label, "形式审查"]
    # The process panel beside it, titled with the application and linked to its dossier.
    assert f'<h1 class="vf-card__title"><a href="{dossier}">{label}</a></h1>' in execute.content.decode()
