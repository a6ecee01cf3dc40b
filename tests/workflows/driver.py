"""Drive the certification flow over HTTP, as each person would: sign in, take the task, submit its form."""

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.models import Application, EvaluatorAssignment
from workflows.engine import fire_due_timers
from workflows.flows import CertificationFlow
from workflows.models import process_for

PASSWORD = "correct-horse-battery"


def client_for(user):
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def open_task(process, node):
    """The one unfinished task of `node` in the process."""
    return Task.objects.get(process=process, flow_task=node, status__in=[STATUS.NEW, STATUS.ASSIGNED])


def open_tasks(process, node):
    return list(Task.objects.filter(process=process, flow_task=node, status__in=[STATUS.NEW, STATUS.ASSIGNED]))


def start(user, cluster, tier):
    client = client_for(user)
    page = client.get(CertificationFlow.start.reverse("execute"))
    assert page.status_code == 200 and cluster.name in page.content.decode()
    response = client.post(CertificationFlow.start.reverse("execute"), {"cluster": cluster.pk, "target_tier": tier})
    assert response.status_code == 302, response.content.decode()[:2000]
    application = Application.objects.filter(cluster=cluster).order_by("-pk").first()
    return application, process_for(application)


def take(user, task):
    """Assign a queued task to `user` (no-op for a task already theirs)."""
    if task.status == STATUS.ASSIGNED:
        assert task.owner_id == user.pk, f"{task} is assigned to {task.owner}, not {user}"
        return
    response = client_for(user).post(task.flow_task.reverse("assign", args=[task.process_id, task.pk]))
    assert response.status_code == 302, response.content.decode()[:2000]


def do(user, process, node, data=None, *, task=None, expect=302):
    """`user` takes the task of `node` and submits `data`; returns the response."""
    task = task or open_task(process, node)
    take(user, task)
    client = client_for(user)
    url = node.reverse("execute", args=[process.pk, task.pk])
    page = client.get(url)
    # Every task page renders for its owner, with the task's title and the application's cluster.
    assert page.status_code == 200, page.content.decode()[:3000]
    assert str(node.task_title) in page.content.decode()
    response = client.post(url, data or {})
    assert response.status_code == expect, response.content.decode()[:3000]
    return response


def scores(application, values, comment="评分说明"):
    """Score sheet POST data: `values` maps indicator code → score (a comment for anything below full marks)."""
    data = {}
    for indicator in application.standard.indicators():
        value = values[indicator.code]
        data[f"value_{indicator.pk}"] = str(value)
        if value < indicator.max_score:
            data[f"comment_{indicator.pk}"] = comment
    return data


def score_all(application, process, by_evaluator):
    """Each active evaluator submits their own sheet from their inbox task. `by_evaluator`: user → values."""
    for evaluator, values in by_evaluator.items():
        assignment = EvaluatorAssignment.objects.get(application=application, evaluator=evaluator, status="active")
        task = Task.objects.get(
            process=process, flow_task=CertificationFlow.score, status=STATUS.ASSIGNED, data__assignment=assignment.pk
        )
        assert task.owner_id == evaluator.pk
        do(evaluator, process, CertificationFlow.score, {"action": "submit", **scores(application, values)}, task=task)


def end_publicity(process, days):
    """Let the 公示 period pass: move the timer's due time into the past and fire due timers."""
    timer = Task.objects.get(process=process, flow_task=CertificationFlow.publicity, status=STATUS.SCHEDULED)
    assert timer.scheduled - timezone.now() > timedelta(days=days) - timedelta(minutes=5)
    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - timedelta(seconds=1))
    assert fire_due_timers() == 1


def inbox_url():
    return reverse("workflow:inbox")
