"""The authorization matrix of the yearly review's and the 整改 items' URLs: every role, in and out of scope.
Out of scope a review is 404 (no existence leak); a refused POST changes nothing."""

import pytest
from django.urls import reverse
from viewflow.workflow.models import Task

from certification.models import (
    AuditEvent,
    RectificationItem,
    ReviewObjection,
    Role,
    YearlyReview,
)
from tests.factories.workflow import person
from tests.workflows.driver import client_for
from tests.workflows.review_scene import certified, rectifying_review, two_districts

ACTORS = [
    "lead",
    "other_lead",
    "office",
    "other_office",
    "leader",
    "other_leader",
    "city_office",
    "city_leader",
    "evaluator",
]
IN_SCOPE = {"lead", "office", "leader", "city_office", "city_leader"}


@pytest.fixture
def scene(db):
    mine, other = two_districts()
    review = rectifying_review(mine)
    certified(other)
    actors = {
        "lead": mine.lead,
        "other_lead": other.lead,
        "office": mine.office,
        "other_office": other.office,
        "leader": mine.leader,
        "other_leader": other.leader,
        "city_office": mine.city_office,
        "city_leader": mine.city_leader,
        "evaluator": person(Role.EVALUATOR),
    }
    return {"review": review, "item": review.rectifications.get().items.get(), "actors": actors, "mine": mine}


def _snapshot():
    return {
        "reviews": sorted(YearlyReview.objects.values_list("pk", "status", "conclusion", "school_year")),
        "items": sorted(RectificationItem.objects.values_list("pk", "status", "response")),
        "objections": ReviewObjection.objects.count(),
        "tasks": sorted(Task.objects.values_list("pk", "status")),
        "audit": AuditEvent.objects.count(),
    }


@pytest.mark.parametrize("actor", ACTORS)
def test_yearly_review_authorization_matrix(scene, actor):
    review, item, mine = scene["review"], scene["item"], scene["mine"]
    client = client_for(scene["actors"][actor])
    inside = actor in IN_SCOPE
    pages = {
        "list": reverse("work:yearly_reviews"),
        "detail": reverse("work:yearly_review_detail", args=[review.pk]),
    }
    got = {name: client.get(url).status_code for name, url in pages.items()}
    assert got == {"list": 200, "detail": 200 if inside else 404}
    listing = client.get(pages["list"]).content.decode()
    assert (review.cluster.name in listing) == inside

    before = _snapshot()
    refused = 409 if inside else 404
    posts = {
        "start": ("yearly_reviews_start", None, {"region": mine.district.pk, "school_year": 2026}),
        "submit": ("yearly_review_submit", review.pk, {"data_note": "越权"}),
        "conclude": ("yearly_review_conclude", review.pk, {"conclusion": "maintained"}),
        "decide": ("yearly_review_decide", review.pk, {"decision": "approve"}),
        "objection": ("yearly_review_objection", review.pk, {"text": "越权异议"}),
        "resolve": ("yearly_review_resolve", review.pk, {"action": "finish"}),
        "verify": ("rectification_verify", item.pk, {}),
        "return": ("rectification_return", item.pk, {"reason": "越权退回"}),
        "answer": ("rectification_answer", item.pk, {"response": "答复"}),
    }
    got = {}
    for name, (url_name, pk, data) in posts.items():
        if name == "start" and actor == "office":
            continue  # the office's own action: covered by the HTTP walk
        if name == "answer" and actor == "lead":
            continue  # the lead's own action: covered by the HTTP walk
        url = reverse(f"work:{url_name}", args=[pk] if pk else [])
        got[name] = client.post(url, data).status_code
    expected = {
        "start": 403,
        "submit": refused,
        "conclude": refused,
        "decide": refused,
        "objection": refused,
        "resolve": refused,
        # The item's office check comes before its state: an open item is not the office's to verify yet (409).
        "verify": (409 if actor == "office" else 403) if inside else 404,
        "return": (409 if actor == "office" else 403) if inside else 404,
        "answer": 403 if inside else 404,
    }
    expected = {name: code for name, code in expected.items() if name in got}
    assert got == expected
    assert _snapshot() == before
