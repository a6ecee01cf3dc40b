"""The authorization matrix of the yearly review's and the 整改 items' URLs: every role, in and out of scope.
Out of scope a review is 404 (no existence leak); a refused POST changes nothing."""

import pytest
from django.urls import reverse
from viewflow.workflow.models import Task

from certification.models import (
    AuditEvent,
    RectificationItem,
    ReviewAssignment,
    ReviewObjection,
    Role,
    Tier,
    YearlyReview,
)
from tests.factories.workflow import build_world, person
from tests.workflows.driver import client_for
from tests.workflows.review_scene import certified, panel_review, rectifying_review, two_districts

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


PANEL_ACTORS = [
    "panel_evaluator",
    "other_panel_evaluator",
    "idle_evaluator",
    "lead",
    "office",
    "leader",
    "other_office",
]


@pytest.fixture
def panel_scene(db):
    """Two districts' reviews waiting for their panels' opinions; an evaluator on neither panel."""
    mine = build_world(Tier.DISTRICT_MODEL, evaluators=2, yearly_evaluators=1)
    other = build_world(Tier.DISTRICT_MODEL, evaluators=1, yearly_evaluators=1, city=mine.city)
    review = panel_review(mine, mine.evaluators[:1])
    panel_review(other, other.evaluators[:1])
    actors = {
        "panel_evaluator": mine.evaluators[0],
        "other_panel_evaluator": other.evaluators[0],
        "idle_evaluator": mine.evaluators[1],
        "lead": mine.lead,
        "office": mine.office,
        "leader": mine.leader,
        "other_office": other.office,
    }
    return {"review": review, "actors": actors}


@pytest.mark.parametrize("actor", PANEL_ACTORS)
def test_yearly_review_panel_urls_authorization_matrix(panel_scene, actor):
    """The panel's URLs on a review waiting for opinions: only its own evaluator gives one (the HTTP walk,
    tests/workflows/test_yearly_review_panel.py); an evaluator of another review's panel does not even see it."""
    review = panel_scene["review"]
    client = client_for(panel_scene["actors"][actor])
    inside = actor in {"panel_evaluator", "lead", "office", "leader"}
    assert client.get(reverse("work:yearly_review_detail", args=[review.pk])).status_code == (200 if inside else 404)
    listing = client.get(reverse("work:yearly_reviews")).content.decode()
    assert (review.cluster.name in listing) == inside
    before = _snapshot()
    evaluator = panel_scene["actors"]["idle_evaluator"]
    got = {
        "panel": client.post(reverse("work:yearly_review_panel", args=[review.pk]), {"evaluators": [evaluator.pk]}),
        "conclude": client.post(reverse("work:yearly_review_conclude", args=[review.pk]), {"conclusion": "maintained"}),
    }
    if actor != "panel_evaluator":
        got["opinion"] = client.post(
            reverse("work:yearly_review_opinion", args=[review.pk]), {"opinion": "revoke", "reason": "越权意见"}
        )
    got = {name: response.status_code for name, response in got.items()}
    # The panel is assigned already and the opinions are not in: the office's steps are not open (409).
    expected = (
        {"panel": 409, "conclude": 409, "opinion": 403} if inside else {"panel": 404, "conclude": 404, "opinion": 404}
    )
    expected = {name: code for name, code in expected.items() if name in got}
    assert got == expected
    assert _snapshot() == before


def _snapshot():
    return {
        "reviews": sorted(YearlyReview.objects.values_list("pk", "status", "conclusion", "school_year")),
        "items": sorted(RectificationItem.objects.values_list("pk", "status", "response")),
        "objections": ReviewObjection.objects.count(),
        "tasks": sorted(Task.objects.values_list("pk", "status")),
        "audit": AuditEvent.objects.count(),
        "panel": sorted(ReviewAssignment.objects.values_list("pk", "evaluator_id", "opinion", "given")),
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
        "panel": ("yearly_review_panel", review.pk, {"evaluators": [scene["actors"]["evaluator"].pk]}),
        "opinion": ("yearly_review_opinion", review.pk, {"opinion": "maintained", "reason": "越权意见"}),
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
        # The review waits for its 整改 items: no panel to assign now (409); nobody here sits on its panel (403).
        "panel": refused,
        "opinion": 403 if inside else 404,
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
