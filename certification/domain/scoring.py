"""Scoring an application: the evaluators' sheets. The panel's result is `certification.domain.aggregation`.

Rules (DOMAIN.md steps 5 and 6, issue #4 items 4 and 6):

* A score lies in [0, max] with at most two decimal places; below full marks the evaluator writes a comment
  (except a computed indicator kept at its pre-filled 0: the figures beside it say why).
* N/A is allowed only where the indicator allows it; an N/A indicator is left out of both the sum and the maximum.
* Computed indicators arrive pre-filled from the structured data (full marks when the threshold is met, 0 when not,
  N/A when there is nothing to measure). Scoring one differently is an override and needs a written reason.
* A sheet pins the data version it saw. Submitting a sheet whose data have changed since is refused once, with the
  pre-fills refreshed, so that the evaluator looks at the recomputed figures before scoring them.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import (
    Application,
    EvaluatorAssignment,
    Indicator,
    Score,
    ScoreSheet,
)

from . import audit, computed

CENT = Decimal("0.01")
SCORING_STATUSES = {Application.Status.ASSIGNMENT, Application.Status.SCORING}


class ScoreErrors(InvalidInput):
    """Some entries broke a scoring rule. ``errors`` maps indicator id → list of messages, for forms and uploads."""

    def __init__(self, errors, codes):
        self.errors = errors
        lines = [f"{codes[pk]}：{'；'.join(messages)}" for pk, messages in errors.items()]
        super().__init__(_("The scores were not saved. %(problems)s") % {"problems": " ".join(lines)})


def _quantize(value):
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _computed_results(application):
    return computed.compute_indicators(application), computed.data_version(application)


def _prefill(indicator, result):
    """(prefill_value, prefill_not_applicable, computed_value) from a computed result; (None, False, "") if none."""
    if result is None:
        return None, False, ""
    shown = str(result.display or "")[:60]
    if result.not_applicable:
        return None, True, shown or "N/A"
    if result.passed is None:
        return None, False, shown
    return (indicator.max_score if result.passed else Decimal("0.00")), False, shown


def _apply_prefill(score, prefill):
    score.prefill_value, score.prefill_not_applicable, score.computed_value = prefill
    score.value = score.prefill_value
    score.not_applicable = score.prefill_not_applicable


def sheet_of(assignment):
    """The assignment's score sheet, or None before its scoring task has started (a read: creates nothing)."""
    return ScoreSheet.objects.filter(assignment=assignment).first()


def get_or_create_sheet(assignment):
    """Open the assignment's score sheet: one Score row per indicator of the pinned standard. Idempotent.

    The flow calls it when the evaluator's scoring task is created (`CertificationFlow.open_score_sheet`), so the
    pages that show the sheet only read it (`sheet_of`).

    Computed indicators are pre-filled from `certification.domain.computed.compute_indicators` and the sheet pins
    that data's version. Refused for a recused assignment or an application not (yet) being scored.
    Side effects: on creation, the sheet and its scores and an audit row.
    """
    existing = ScoreSheet.objects.filter(assignment=assignment).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        assignment = EvaluatorAssignment.objects.select_for_update().select_related("application").get(pk=assignment.pk)
        existing = ScoreSheet.objects.filter(assignment=assignment).first()
        if existing is not None:
            return existing
        application = assignment.application
        if assignment.status != EvaluatorAssignment.Status.ACTIVE:
            raise IllegalTransition(_("This evaluator has been recused from the application and has no score sheet."))
        if application.status not in SCORING_STATUSES:
            raise IllegalTransition(
                _("The application is %(status)s; score sheets exist only while it is being scored.")
                % {"status": application.get_status_display()}
            )
        indicators = list(application.standard.indicators())
        computed_results, version = _computed_results(application)
        sheet = ScoreSheet.objects.create(assignment=assignment, data_version=version)
        scores = []
        for indicator in indicators:
            score = Score(sheet=sheet, indicator=indicator)
            if indicator.method == Indicator.Method.COMPUTED:
                _apply_prefill(score, _prefill(indicator, computed_results.get(indicator.pk)))
            scores.append(score)
        Score.objects.bulk_create(scores)
        audit.record(
            "score_sheet.created",
            actor=assignment.evaluator,
            application=application,
            obj=sheet,
            to_state=sheet.status,
            payload={"data_version": version, "indicators": len(scores)},
        )
    return sheet


def _parse_value(raw):
    """A score as a Decimal with at most two places, or None when blank. Raises ValueError on anything else."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, float):
        raw = repr(raw)
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(raw) from None
    if not value.is_finite():
        raise ValueError(raw)
    if value != value.quantize(CENT):
        raise ValueError(raw)
    return value.quantize(CENT)


def _data_explains(score):
    # A computed indicator kept at its pre-fill (0 because the threshold was missed) is explained by the figures
    # shown beside it; the comment is needed where an evaluator's own judgement sets the score.
    return score.has_prefill and not score.is_override


def _check_score(score, *, complete):
    """Messages for every rule `score` breaks (with `complete`: a missing score is one too)."""
    indicator = score.indicator
    problems = []
    if score.not_applicable:
        if not indicator.na_allowed:
            problems.append(_("this indicator may not be marked N/A; enter a score"))
    elif score.value is None:
        if complete:
            problems.append(_("enter a score or mark it N/A"))
    else:
        if score.value < 0 or score.value > indicator.max_score:
            problems.append(
                _("the score %(value)s is outside 0 to %(max)s") % {"value": score.value, "max": indicator.max_score}
            )
        elif score.value < indicator.max_score and not score.comment.strip() and not _data_explains(score):
            problems.append(_("below full marks a comment is required; say what is missing"))
    if score.is_override and not score.override_reason.strip():
        problems.append(_("the score differs from the computed result; give a reason for overriding it"))
    return problems


def _load_sheet_for_change(sheet):
    sheet = (
        ScoreSheet.objects.select_for_update()
        .select_related("assignment__application__standard", "assignment__evaluator")
        .get(pk=sheet.pk)
    )
    if sheet.status != ScoreSheet.Status.DRAFT:
        raise IllegalTransition(_("This score sheet has been submitted and can no longer be changed."))
    if sheet.assignment.status != EvaluatorAssignment.Status.ACTIVE:
        raise IllegalTransition(_("This evaluator has been recused from the application; the sheet is closed."))
    application = sheet.assignment.application
    if application.status not in SCORING_STATUSES:
        raise IllegalTransition(
            _("The application is %(status)s; scores can no longer be changed.")
            % {"status": application.get_status_display()}
        )
    return sheet


def save_scores(sheet, entries, *, by):
    """Save a draft of `sheet`: `entries` maps indicator id → {value, not_applicable, comment, override_reason}.

    Indicators absent from `entries` keep their scores; a draft may be incomplete but what it holds must obey the
    rules (range, comment below full marks, N/A only where allowed, a reason for an override). Nothing is saved
    when any entry is wrong: ScoreErrors lists every problem by indicator.
    Only the sheet's evaluator may save it (NotAllowed otherwise). Side effects: the scores, an audit row.
    """
    with transaction.atomic():
        sheet = _load_sheet_for_change(sheet)
        if by is None or by.pk != sheet.assignment.evaluator_id:
            raise NotAllowed(_("Only the evaluator who owns this score sheet may change it."))
        scores = {score.indicator_id: score for score in sheet.scores.select_related("indicator")}
        errors, changed = {}, []
        codes = {pk: score.indicator.code for pk, score in scores.items()}
        for key, entry in entries.items():
            try:
                pk = int(key)
            except (TypeError, ValueError):
                pk = None
            score = scores.get(pk)
            if score is None:
                raise InvalidInput(_("Indicator %(id)s is not on this score sheet.") % {"id": key})
            entry = entry or {}
            score.not_applicable = bool(entry.get("not_applicable"))
            score.comment = str(entry.get("comment") or "").strip()
            score.override_reason = str(entry.get("override_reason") or "").strip()
            try:
                score.value = None if score.not_applicable else _parse_value(entry.get("value"))
            except ValueError:
                errors[pk] = [
                    _("“%(value)s” is not a score; enter a number from 0 to %(max)s with at most two decimals")
                    % {"value": entry.get("value"), "max": score.indicator.max_score}
                ]
                continue
            problems = _check_score(score, complete=False)
            if problems:
                errors[pk] = problems
            changed.append(score)
        if errors:
            raise ScoreErrors(errors, codes)
        Score.objects.bulk_update(changed, ["value", "not_applicable", "comment", "override_reason"])
        sheet.saved = timezone.now()
        sheet.save(update_fields=["saved", "updated"])
        audit.record(
            "score_sheet.saved",
            actor=by,
            application=sheet.assignment.application,
            obj=sheet,
            payload={
                "scores": {score.indicator.code: "N/A" if score.not_applicable else score.value for score in changed}
            },
        )
    return sheet


def _refresh_prefills(sheet, computed_results, version):
    """Take the recomputed results into the sheet; scores the evaluator overrode keep their value and reason."""
    changed = []
    for score in sheet.scores.select_related("indicator").filter(indicator__method=Indicator.Method.COMPUTED):
        overridden = score.is_override and score.override_reason.strip()
        prefill = _prefill(score.indicator, computed_results.get(score.indicator_id))
        if overridden:
            score.prefill_value, score.prefill_not_applicable, score.computed_value = prefill
        else:
            _apply_prefill(score, prefill)
            score.override_reason = ""
        changed.append(score)
    Score.objects.bulk_update(
        changed,
        ["value", "not_applicable", "prefill_value", "prefill_not_applicable", "computed_value", "override_reason"],
    )
    sheet.data_version = version
    sheet.save(update_fields=["data_version", "updated"])


def submit_sheet(sheet, *, by):
    """Submit `sheet`: every indicator scored or N/A and every rule met; then the sheet is frozen.

    When the structured data changed since the sheet was filled, the pre-fills of computed indicators that were
    not overridden are refreshed (committed) and the submission is refused so the evaluator reviews them.
    Completing the evaluator's viewflow task is the caller's job (workflows). Side effects: status, audit row.
    """
    stale = False
    with transaction.atomic():
        sheet = _load_sheet_for_change(sheet)
        if by is None or by.pk != sheet.assignment.evaluator_id:
            raise NotAllowed(_("Only the evaluator who owns this score sheet may submit it."))
        application = sheet.assignment.application
        computed_results, version = _computed_results(application)
        if version != sheet.data_version:
            _refresh_prefills(sheet, computed_results, version)
            audit.record(
                "score_sheet.data_refreshed",
                actor=by,
                application=application,
                obj=sheet,
                payload={"data_version": version},
            )
            stale = True
        else:
            scores = list(sheet.scores.select_related("indicator"))
            errors = {}
            for score in scores:
                problems = _check_score(score, complete=True)
                if problems:
                    errors[score.indicator_id] = problems
            if errors:
                raise ScoreErrors(errors, {score.indicator_id: score.indicator.code for score in scores})
            sheet.status = ScoreSheet.Status.SUBMITTED
            sheet.submitted = timezone.now()
            sheet.save(update_fields=["status", "submitted", "updated"])
            audit.record(
                "score_sheet.submitted",
                actor=by,
                application=application,
                obj=sheet,
                from_state=ScoreSheet.Status.DRAFT,
                to_state=ScoreSheet.Status.SUBMITTED,
                payload={"data_version": version},
            )
    if stale:
        raise IllegalTransition(
            _(
                "The structured data changed after you filled this sheet. The computed indicators have been "
                "recomputed; review their new values and submit again."
            )
        )
    return sheet
