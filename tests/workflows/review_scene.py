"""A certified cluster whose yearly review waits for its 整改 items, set up through the domain and the engine (the
HTTP walk is tests/workflows/test_yearly_review.py); and a second district's world beside it."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from certification.domain import yearly_review
from certification.domain.certificate import certify
from certification.models import Application, Tier
from tests.factories.evidence import make_application, pdf_bytes
from tests.factories.workflow import build_world
from workflows.engine import run_review_step, start_yearly_reviews
from workflows.flows import YearlyReviewFlow as R


def certified(world):
    application = make_application(cluster=world.cluster, standard=world.standard, status=Application.Status.PUBLICITY)
    certify(application)
    world.cluster.refresh_from_db()
    return application


def submitted_review(world, year=2025):
    """The world's cluster certified and its `year` review started and submitted by the lead."""
    certified(world)
    (review,), _skipped = start_yearly_reviews(world.district, year, by=world.office)
    evidence = [("年度工作总结", SimpleUploadedFile("总结.pdf", pdf_bytes("y"), content_type="application/pdf"))]
    run_review_step(
        review,
        R.submit_data,
        lambda: yearly_review.submit(review, by=world.lead, data_note="学年概述", evidence=evidence),
    )
    return review


def rectifying_review(world, year=2025):
    """The world's cluster certified, its `year` review submitted and concluded 限期整改 with one item."""
    review = submitted_review(world, year)
    today = timezone.localdate()
    indicator = world.standard.indicators().order_by("code").first()
    item = {
        "indicator": indicator,
        "concerns": f"{indicator.code} {indicator.title}",
        "required_change": "修订章程",
        "deadline": today + timedelta(days=5),
    }
    run_review_step(
        review,
        R.conclude,
        lambda: yearly_review.conclude(
            review, "rectify", by=world.office, reason="章程未修订", rectify_by=today + timedelta(days=10), items=[item]
        ),
    )
    review.refresh_from_db()
    return review


def panel_review(world, evaluators, year=2025):
    """The world's cluster certified (its standard asking for a panel), its `year` review submitted and the
    `evaluators` assigned: the review waits for their opinions."""
    review = submitted_review(world, year)
    run_review_step(review, R.assign_panel, lambda: yearly_review.assign_panel(review, evaluators, by=world.office))
    review.refresh_from_db()
    return review


def two_districts():
    mine = build_world(Tier.CLOSE_KNIT, evaluators=1)
    other = build_world(Tier.CLOSE_KNIT, evaluators=1, city=mine.city)
    return mine, other
