"""Scoring test data: standards with hand-picked maxima, applications being scored, panels and filled sheets."""

from decimal import Decimal

from certification.domain.roles import grant_role
from certification.domain.scoring import SCORING_STATUSES, get_or_create_sheet, save_scores, submit_sheet
from certification.models import Application, EvaluatorAssignment, Role, Tier

from . import ClusterFactory, UserFactory, published_standard

NA = "na"


def scored(code, max_score, **fields):
    return {"code": code, "title": f"指标{code}", "max_score": Decimal(str(max_score)), "method": "scored", **fields}


def scoring_standard(specs, *, total=None, pass_score=None, tolerance="0.2", aggregation="mean", tier=Tier.CLOSE_KNIT):
    total = Decimal(str(total)) if total is not None else sum(Decimal(str(s["max_score"])) for s in specs)
    return published_standard(
        tier,
        indicators=specs,
        total_score=total,
        pass_score=Decimal(str(pass_score)) if pass_score is not None else total * Decimal("0.6"),
        disagreement_tolerance=Decimal(str(tolerance)),
        aggregation=aggregation,
    )


def scoring_application(standard, *, cluster=None, status=Application.Status.SCORING):
    cluster = cluster or ClusterFactory()
    return Application.objects.create(
        cluster=cluster,
        target_tier=standard.tier,
        standard=standard,
        year=2026,
        status=status,
        opened_by=UserFactory(),
    )


def evaluator(**fields):
    user = UserFactory(**fields)
    grant_role(user, Role.EVALUATOR)
    return user


def panel(application, size, *, lead=0):
    """`size` active assignments of new evaluators; the one at index `lead` is the panel lead.

    While the application is being scored each evaluator's sheet is opened, as the flow does when their scoring
    task starts (the sheet pages only read it).
    """
    office = UserFactory()
    assignments = [
        EvaluatorAssignment.objects.create(
            application=application, evaluator=evaluator(), assigned_by=office, is_panel_lead=(index == lead)
        )
        for index in range(size)
    ]
    if application.status in SCORING_STATUSES:
        for assignment in assignments:
            get_or_create_sheet(assignment)
    return assignments


def entries_for(sheet, values, comment="材料不够完整。"):
    """Entries for `save_scores` from {indicator code: number or NA}; a comment goes with every score."""
    by_code = {score.indicator.code: score.indicator_id for score in sheet.scores.select_related("indicator")}
    entries = {}
    for code, value in values.items():
        if value == NA:
            entries[by_code[code]] = {"not_applicable": True}
        else:
            entries[by_code[code]] = {"value": str(value), "comment": comment}
    return entries


def submitted_sheet(assignment, values):
    sheet = get_or_create_sheet(assignment)
    save_scores(sheet, entries_for(sheet, values), by=assignment.evaluator)
    return submit_sheet(sheet, by=assignment.evaluator)
