"""Drive a yearly review over HTTP, as each person would, on a cluster certified over HTTP first."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.models import YearlyReview
from tests.factories.evidence import pdf_bytes
from tests.factories.workflow import upload_all_evidence
from tests.workflows.driver import client_for, do, end_publicity, score_all, start
from workflows.flows import CertificationFlow as F
from workflows.models import review_process_for

FULL = {"A1": 4, "A2": 6}


def certify_over_http(world):
    """The world's cluster earns the world's tier through the certification flow (district leader decides)."""
    application, process = start(world.lead, world.cluster, world.tier)
    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    panel = world.evaluators[:3]
    do(world.office, process, F.assign_evaluators, {"evaluators": [e.pk for e in panel], "panel_lead": panel[0].pk})
    score_all(application, process, dict.fromkeys(panel, FULL))
    do(world.leader, process, F.district_decision, {"decision": "approve", "comment": "同意"})
    end_publicity(process, world.standard.publicity_days)
    world.cluster.refresh_from_db()
    return application


def pdf(name="年度总结.pdf", text="yearly"):
    return SimpleUploadedFile(name, pdf_bytes(text), content_type="application/pdf")


def post(user, name, pk=None, data=None, *, expect=302):
    args = [pk] if pk is not None else []
    response = client_for(user).post(reverse(f"work:{name}", args=args), data or {})
    assert response.status_code == expect, response.content.decode()[:3000]
    return response


def start_reviews(office, district, year):
    post(office, "yearly_reviews_start", data={"region": district.pk, "school_year": year})


def submit_review(lead, review):
    post(
        lead,
        "yearly_review_submit",
        review.pk,
        {"data_note": "本学年完成交流轮岗与课程共享。", "title_0": "年度工作总结", "file_0": pdf()},
    )


def open_task_of(review, node):
    return Task.objects.filter(process=review_process_for(review), flow_task=node).exclude(status=STATUS.DONE).first()


def pass_timer(review, node):
    """Let the timer of `node` come due, and fire due timers as the office's button does."""
    timer = open_task_of(review, node)
    assert timer is not None and timer.status == STATUS.SCHEDULED
    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - timedelta(seconds=1))


def review_of(cluster, year):
    return YearlyReview.objects.get(cluster=cluster, school_year=year)
