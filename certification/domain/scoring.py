"""Scoring an application: evaluators' sheets, the panel's aggregation and the panel lead's reconciliation.

Rules (DOMAIN.md steps 5 and 6, issue #4 items 4 and 6):

* A score lies in [0, max] with at most two decimal places; below full marks the evaluator writes a comment
  (except a computed indicator kept at its pre-filled 0: the figures beside it say why).
* N/A is allowed only where the indicator allows it; an N/A indicator is left out of both the sum and the maximum.
* Computed indicators arrive pre-filled from the structured data (full marks when the threshold is met, 0 when not,
  N/A when there is nothing to measure). Scoring one differently is an override and needs a written reason.
* A sheet pins the data version it saw. Submitting a sheet whose data have changed since is refused once, with the
  pre-fills refreshed, so that the evaluator looks at the recomputed figures before scoring them.

Aggregation (see `aggregate`):

* Only submitted sheets of ACTIVE assignments count (a recused evaluator's sheet does not).
* The panel marks an indicator N/A by strict MAJORITY of its evaluators: more than half of them said N/A. A split
  panel (exactly half) keeps the indicator applicable; its combined score then comes from the evaluators who
  scored it. This way one evaluator cannot silently remove an indicator from the maximum, and one cannot force
  an indicator that most of the panel found has nothing to measure.
* The combined score is the standard's aggregation of the numeric scores: mean, median, or trimmed mean (drop one
  highest and one lowest when there are at least three scores, else the mean), rounded half-up to 0.01.
* Spread = highest − lowest numeric score. A spread greater than ``disagreement_tolerance × max_score`` is a
  disagreement, which the panel lead reconciles with a reason (`reconcile`); until then ``passed`` stays None.
* Total, on the standard's scale:  ``total = total_score × Σ final(i) ÷ Σ max(i)`` over applicable indicators,
  rounded half-up to 0.01. Rescaling keeps a cluster without, say, a kindergarten on the same scale as one with:
  leaving an N/A indicator out of the maximum without rescaling would lower the reachable total and fail it for
  having nothing to measure; counting it as 0 would do the same. When every indicator is N/A the total is 0.
* A veto indicator is met when its final score is at least 60% of its maximum (``VETO_SHARE``). For computed
  indicators whose pre-fills stand this is exactly the data's pass/fail (full marks or 0); where the panel
  overrode the data with written reasons, their combined judgement counts. An N/A veto indicator cannot fail.
* ``passed`` = total ≥ pass score AND every veto met; None while a disagreement is unreconciled.
"""

import statistics
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.models import Application, EvaluatorAssignment, Indicator, IndicatorResult, Score, ScoreSheet

from . import audit
from .errors import IllegalTransition, InvalidInput, NotAllowed

CENT = Decimal("0.01")
VETO_SHARE = Decimal("0.6")
# Below this share of its maximum an indicator goes on the 整改 list of a failed application.
FAIL_SHARE = VETO_SHARE
SCORING_STATUSES = {Application.Status.ASSIGNMENT, Application.Status.SCORING}
RECONCILING_STATUSES = {Application.Status.SCORING, Application.Status.RECONCILIATION}


class ScoreErrors(InvalidInput):
    """Some entries broke a scoring rule. ``errors`` maps indicator id → list of messages, for forms and uploads."""

    def __init__(self, errors, codes):
        self.errors = errors
        lines = [f"{codes[pk]}：{'；'.join(messages)}" for pk, messages in errors.items()]
        super().__init__(_("The scores were not saved. %(problems)s") % {"problems": " ".join(lines)})


@dataclass
class AggregateResult:
    total: Decimal
    max_total: Decimal
    vetoes_met: bool
    passed: bool | None
    disagreements: list = field(default_factory=list)


@dataclass
class FailedItem:
    """One line of the 整改 list."""

    indicator: Indicator
    value: Decimal | None
    max_score: Decimal
    reasons: list
    comments: list


def _quantize(value):
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _computed_results(application):
    from . import computed

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


def get_or_create_sheet(assignment):
    """The assignment's score sheet, created on first use with one Score row per indicator of the pinned standard.

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
        sheet.save(update_fields=["updated"])
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


def combine(values, method):
    """Combine evaluators' scores with the standard's aggregation method, rounded half-up to 0.01."""
    values = sorted(values)
    if method == "median":
        combined = statistics.median(values)
    elif method == "trimmed_mean" and len(values) >= 3:
        trimmed = values[1:-1]
        combined = sum(trimmed) / len(trimmed)
    else:
        combined = sum(values) / len(values)
    return _quantize(Decimal(combined))


def _veto_met(indicator, result):
    if not indicator.veto:
        return None
    if result.not_applicable:
        return True
    return result.final_value >= indicator.max_score * VETO_SHARE


def _totals(application, results):
    """(total, max_total, vetoes_met, passed) from IndicatorResult rows; see the module docstring."""
    standard = application.standard
    earned = sum((r.final_value for r in results if not r.not_applicable), start=Decimal("0"))
    applicable_max = sum((r.indicator.max_score for r in results if not r.not_applicable), start=Decimal("0"))
    total = _quantize(standard.total_score * earned / applicable_max) if applicable_max else Decimal("0.00")
    vetoes_met = all(r.veto_met is not False for r in results)
    # A disagreement still open means the total may move: no verdict until the panel lead reconciles it.
    unreconciled = any(r.is_unreconciled for r in results)
    passed = None if unreconciled else total >= standard.pass_score and vetoes_met
    return total, standard.total_score, vetoes_met, passed


def _save_totals(application, results, *, actor, action):
    total, max_total, vetoes_met, passed = _totals(application, results)
    application.total_score, application.vetoes_met, application.passed = total, vetoes_met, passed
    application.save(update_fields=["total_score", "vetoes_met", "passed"])
    audit.record(
        action,
        actor=actor,
        application=application,
        obj=application,
        payload={"total": total, "vetoes_met": vetoes_met, "passed": passed},
    )
    return AggregateResult(
        total=total,
        max_total=max_total,
        vetoes_met=vetoes_met,
        passed=passed,
        disagreements=[r for r in results if r.is_unreconciled],
    )


def aggregate(application):
    """Combine the active panel's submitted sheets into one IndicatorResult per indicator and the totals.

    Refused while an active evaluator has not submitted. Idempotent: results are updated in place and a panel
    lead's reconciliation is kept. Sets application.total_score, vetoes_met and passed (None while a disagreement
    is unreconciled). Side effects: IndicatorResult rows, the application's totals, an audit row.
    """
    with transaction.atomic():
        application = Application.objects.select_for_update().select_related("standard").get(pk=application.pk)
        standard = application.standard
        assignments = list(
            EvaluatorAssignment.objects.filter(
                application=application, status=EvaluatorAssignment.Status.ACTIVE
            ).select_related("evaluator", "sheet")
        )
        if not assignments:
            raise IllegalTransition(_("The application has no active evaluators to aggregate."))
        waiting = [
            str(a.evaluator)
            for a in assignments
            if getattr(a, "sheet", None) is None or a.sheet.status != ScoreSheet.Status.SUBMITTED
        ]
        if waiting:
            raise IllegalTransition(
                _("Scores cannot be combined yet: %(names)s have not submitted their sheets.")
                % {"names": "、".join(waiting)}
            )
        by_indicator = {}
        for score in Score.objects.filter(sheet__assignment__in=assignments):
            by_indicator.setdefault(score.indicator_id, []).append(score)
        existing = {r.indicator_id: r for r in IndicatorResult.objects.filter(application=application)}
        results = []
        for indicator in standard.indicators():
            scores = by_indicator.get(indicator.pk, [])
            numbers = [s.value for s in scores if not s.not_applicable and s.value is not None]
            na_votes = sum(1 for s in scores if s.not_applicable)
            result = existing.get(indicator.pk) or IndicatorResult(application=application, indicator=indicator)
            result.indicator = indicator
            result.not_applicable = na_votes * 2 > len(scores) or not numbers
            if result.not_applicable:
                result.value, result.spread, result.disagreement = None, Decimal("0"), False
            else:
                result.value = combine(numbers, standard.aggregation)
                result.spread = max(numbers) - min(numbers)
                result.disagreement = result.spread > standard.disagreement_tolerance * indicator.max_score
            if not result.disagreement:
                result.reconciled_value, result.reconciled_reason, result.reconciled_by = None, "", None
            result.veto_met = _veto_met(indicator, result)
            result.save()
            results.append(result)
        IndicatorResult.objects.filter(application=application).exclude(pk__in=[r.pk for r in results]).delete()
        return _save_totals(application, results, actor=None, action="application.aggregated")


def _results_of(application):
    return list(IndicatorResult.objects.filter(application=application).select_related("indicator__dimension"))


def reconcile(result, value, reason, *, by):
    """The panel lead settles a disagreement on one indicator with `value` and a written `reason`.

    Only an active panel lead of the application may, while it is being scored or reconciled; the value lies in
    [0, max]. The totals are recomputed (passed stays None while another disagreement is open).
    Side effects: the result's reconciliation, the application's totals, audit rows.
    """
    with transaction.atomic():
        result = (
            IndicatorResult.objects.select_for_update().select_related("indicator", "application").get(pk=result.pk)
        )
        application = Application.objects.select_for_update().select_related("standard").get(pk=result.application_id)
        is_lead = EvaluatorAssignment.objects.filter(
            application=application,
            evaluator=by,
            is_panel_lead=True,
            status=EvaluatorAssignment.Status.ACTIVE,
        ).exists()
        if not is_lead:
            raise NotAllowed(_("Only the panel lead of this application may reconcile a disagreement."))
        if application.status not in RECONCILING_STATUSES:
            raise IllegalTransition(
                _("The application is %(status)s; disagreements can no longer be reconciled.")
                % {"status": application.get_status_display()}
            )
        if not result.disagreement:
            raise IllegalTransition(
                _("The evaluators agree on %(code)s; there is nothing to reconcile.") % {"code": result.indicator.code}
            )
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput(_("Give the reason for the reconciled score."))
        try:
            value = _parse_value(value)
        except ValueError:
            value = None
        if value is None or value < 0 or value > result.indicator.max_score:
            raise InvalidInput(
                _("Enter a reconciled score from 0 to %(max)s with at most two decimals.")
                % {"max": result.indicator.max_score}
            )
        previous = result.reconciled_value
        result.reconciled_value, result.reconciled_reason, result.reconciled_by = value, reason, by
        result.veto_met = _veto_met(result.indicator, result)
        result.save(update_fields=["reconciled_value", "reconciled_reason", "reconciled_by", "veto_met"])
        audit.record(
            "indicator_result.reconciled",
            actor=by,
            application=application,
            obj=result,
            from_state=previous if previous is not None else result.value,
            to_state=value,
            reason=reason,
            payload={"indicator": result.indicator.code},
        )
        return _save_totals(application, _results_of(application), actor=by, action="application.reconciled")


def has_unreconciled(application):
    """Whether any indicator of the application still has a disagreement without a reconciled score."""
    return IndicatorResult.objects.filter(
        application=application, disagreement=True, reconciled_value__isnull=True
    ).exists()


def failed_items(application):
    """The 整改 list: indicators whose veto was not met or whose final score is below 60% of the maximum.

    Each item carries the reasons and the evaluators' comments on it (from the active panel's submitted sheets).
    """
    results = [r for r in _results_of(application) if not r.not_applicable]
    comments = {}
    scores = Score.objects.filter(
        sheet__assignment__application=application,
        sheet__assignment__status=EvaluatorAssignment.Status.ACTIVE,
        sheet__status=ScoreSheet.Status.SUBMITTED,
    ).exclude(comment="")
    for indicator_id, comment in scores.values_list("indicator_id", "comment"):
        comments.setdefault(indicator_id, []).append(comment)
    items = []
    for result in results:
        reasons = []
        maximum = result.indicator.max_score
        if result.veto_met is False:
            reasons.append(_("Veto indicator not met: failing it fails the application whatever the total."))
        if result.final_value < maximum * FAIL_SHARE:
            reasons.append(
                _("Scored %(value)s of %(max)s, below 60%% of the maximum.")
                % {"value": result.final_value, "max": maximum}
            )
        if result.reconciled_reason:
            reasons.append(_("Panel lead: %(reason)s") % {"reason": result.reconciled_reason})
        if result.veto_met is False or result.final_value < maximum * FAIL_SHARE:
            items.append(
                FailedItem(
                    indicator=result.indicator,
                    value=result.final_value,
                    max_score=maximum,
                    reasons=reasons,
                    comments=comments.get(result.indicator_id, []),
                )
            )
    return items


def may_export(user, *, application=None, district=None):
    """Who may export: an application's 评估汇总表 — the office and leaders of its district or city and
    administrators; a district summary — the office and leaders of that district only."""
    from certification.models import Role, RoleGrant

    if not user.is_authenticated or not user.is_active:
        return False
    grants = RoleGrant.objects.active().filter(user=user)
    district_roles = [Role.DISTRICT_OFFICE, Role.DISTRICT_LEADER]
    if district is not None:
        return grants.filter(role__in=district_roles, region=district).exists()
    cluster_district = application.cluster.district
    return (
        user.is_superuser
        or grants.filter(role=Role.ADMINISTRATOR).exists()
        or grants.filter(role__in=district_roles, region=cluster_district).exists()
        or grants.filter(role__in=[Role.CITY_OFFICE, Role.CITY_LEADER], region_id=cluster_district.parent_id).exists()
    )


def request_export(*, by, application=None, district=None, file_format="xlsx"):
    """Ask for an export (.xlsx, or .csv safe to open) of an application's 评估汇总表 or of a district's applications.

    Side effects: an ExportJob row, an audit row, and after commit the Celery task that builds the file.
    """
    from certification.excel.summary_export import queue_export
    from certification.models import ExportJob

    if (application is None) == (district is None):
        raise InvalidInput(_("Choose either an application or a district to export."))
    if not may_export(by, application=application, district=district):
        raise NotAllowed(_("You may not export this summary."))
    if file_format not in ExportJob.FileFormat.values:
        raise InvalidInput(_("Choose Excel (.xlsx) or CSV (.csv) for the export."))
    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=ExportJob.Kind.APPLICATION if application is not None else ExportJob.Kind.DISTRICT,
            application=application,
            district=district,
            file_format=ExportJob.FileFormat(file_format),
            created_by=by,
        )
        audit.record(
            "export.requested",
            actor=by,
            application=application,
            obj=job,
            payload={
                "kind": job.kind,
                "district": district.pk if district is not None else None,
                "format": job.file_format,
            },
        )
        queue_export(job)
    return job
