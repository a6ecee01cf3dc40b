"""The yearly review (年度评估) of a certified cluster, step by step (seed 002: "区级每年组织评估……").

The office starts the reviews of a school year for every certified cluster in its scope in one action (the district
office for 紧密型 and 区级示范性, the city office for 市级示范性); the lead submits the year's summary and a short
evidence set; the monitoring indicators of the held tier's standard are computed; when that standard asks for
evaluators (`Standard.yearly_evaluators`), the office assigns them (the conflict rules of application panels,
`certification.domain.panel`) and each gives an opinion; the office then concludes 保持,
限期整改, 降级 or 撤销. A downgrade or revocation goes to the leader who approves certification of that tier (the
same approval step and role, `approval.STEP_ROLE`), then a notice period in which the cluster may object, then takes
effect through the tier steps. Every function: one transaction, state and actor checked, an audit row, notifications.
"""

from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from certification import uploads
from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import (
    Cluster,
    Region,
    ReviewAssignment,
    ReviewEvidence,
    ReviewObjection,
    Role,
    RoleGrant,
    SentReminder,
    Standard,
    YearlyReview,
)
from certification.models.tier import CERTIFIABLE, LADDER, Tier, decided_by_city, tier_rank

from . import audit, panel, rectification, roles, tiers
from .approval import STEP_ROLE, Step
from .computed import ClusterData, compute_for, computed_indicators_of, data_version
from .datasets import pin_for, pinned_versions
from .notify import deadline_message, notify, task_reminder_key
from .readiness import school_year_now
from .tiers import downgrade, revoke

Status = YearlyReview.Status
Conclusion = YearlyReview.Conclusion

# The short evidence set: at least one file, at most this many.
MAX_EVIDENCE = 5


def office_role(review):
    """The office that runs the review: the city office for 市级示范性, else the district office."""
    return Role.CITY_OFFICE if decided_by_city(review.tier) else Role.DISTRICT_OFFICE


def leader_role(review):
    """The leader who approves a downgrade or revocation: whoever gives the final approval of that tier."""
    return STEP_ROLE[Step.CITY if decided_by_city(review.tier) else Step.DISTRICT]


def holders(role, review):
    return list(RoleGrant.objects.holders(role, review))


def holds(user, role, review):
    return bool(user is not None and user.is_authenticated and user.is_active) and (
        RoleGrant.objects.covering(role, review).filter(user=user).exists()
    )


def _require(user, role, review, message):
    if not holds(user, role, review):
        raise NotAllowed(message)


def _require_status(review, *statuses):
    if review.status not in statuses:
        raise IllegalTransition(
            _("This step cannot be taken now: the yearly review is “%(status)s”.")
            % {"status": review.get_status_display()}
        )


def _lock(review):
    return (
        YearlyReview.objects.select_for_update(of=("self",))
        .select_related("cluster__district__parent", "standard")
        .get(pk=review.pk)
    )


def review_url(review):
    return reverse("work:yearly_review_detail", args=[review.pk])


def _tell(people, subject, body, review):
    return notify(people, subject, body, url=review_url(review))


def _tell_holders(role, review, subject, body):
    """Notify the holders of `role` over the review; `subject` names the review by its %(name)s."""
    return _tell(holders(role, review), subject % {"name": _name(review)}, body, review)


def _name(review):
    return _("%(cluster)s, yearly review %(year)s") % {"cluster": review.cluster.name, "year": review.school_year}


def _move(review, to_status, *, by, action, reason="", payload=None, fields=()):
    from_status = review.status
    review.status = to_status
    review.save(update_fields=["status", *fields])
    audit.record(
        action, actor=by, obj=review, from_state=from_status, to_state=to_status, reason=reason, payload=payload
    )


def reviewable(clusters, held_tiers):
    """[(cluster, its counting certificate of the tier it holds, or None)] for the `clusters` holding one of
    `held_tiers` today, row-locked. None: a tier recorded at set-up (tier history INITIAL, the demo's) that no
    certificate backs. The tier is the derived one (`certification.domain.tiers`), filtered in SQL."""
    clusters = list(
        clusters.with_tier()
        .filter(current_tier__in=held_tiers)
        .with_tier_history()
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    return [
        (cluster, next((c for c in tiers.counting_certificates(cluster) if c.tier == cluster.current_tier), None))
        for cluster in clusters
    ]


def tiers_run_by(region):
    """The tiers whose clusters an office of `region` reviews: a city runs 市级示范性, a district the others."""
    if region.kind == Region.Kind.CITY:
        return [Tier.CITY_MODEL]
    return [tier for tier in CERTIFIABLE if not decided_by_city(tier)]


def start_reviews(region, school_year, *, by):
    """Start the `school_year` review of every certified cluster the office of `region` reviews, in one action.

    A cluster is reviewed for the tier it holds, against the standard of its valid certificate of that tier (or, for
    a tier recorded at set-up without a certificate, the standard in force for it); a cluster already reviewed that
    year, or whose tier has no standard, is left alone. Returns (started reviews, how many already had one). Side effects: one review per
    cluster, an audit row each, a notification to each cluster's lead.
    """
    role = Role.CITY_OFFICE if region.kind == Region.Kind.CITY else Role.DISTRICT_OFFICE
    if not (by.is_active and RoleGrant.objects.active().filter(user=by, role=role, region=region).exists()):
        raise NotAllowed(_("Only the office of this region may start its yearly reviews."))
    # The review of school year Y reads the cluster's data of school year Y (`_monitoring`), the data an application
    # of assessment year Y + 1 reads too (`data_school_year`); a later year has no data the lead can import yet (the
    # cluster data page offers `readiness.recent_school_years`), so its review would silently read old pins.
    latest = school_year_now()
    if not 2000 <= school_year <= latest:
        raise InvalidInput(
            _("A yearly review reads the data of a school year already imported: choose %(year)s or earlier.")
            % {"year": latest}
        )
    clusters = Cluster.objects.filter(district__parent=region) if region.kind == Region.Kind.CITY else region.clusters
    with transaction.atomic():
        held = reviewable(clusters.all(), tiers_run_by(region))
        done = set(
            YearlyReview.objects.filter(
                cluster__in=[cluster for cluster, _c in held], school_year=school_year
            ).values_list("cluster", flat=True)
        )
        started = []
        in_force = {tier: Standard.objects.in_force(tier) for tier in tiers_run_by(region)}
        for cluster, certificate in held:
            standard = certificate.standard if certificate else in_force[cluster.current_tier]
            if cluster.pk in done or standard is None:
                continue
            review = YearlyReview.objects.create(
                cluster=cluster,
                school_year=school_year,
                tier=cluster.current_tier,
                certificate=certificate,
                standard=standard,
                data_application_id=certificate.application_id if certificate else None,
                started_by=by,
            )
            audit.record("yearly_review.started", actor=by, obj=review, to_state=review.status)
            _tell(
                RoleGrant.objects.holders(Role.LEAD, review),
                _("Yearly review started: %(name)s") % {"name": _name(review)},
                _("Submit the year's summary and a short evidence set."),
                review,
            )
            started.append(review)
    return started, len(done)


def submit(review, *, by, data_note, evidence):
    """The lead submits the year's summary and the short evidence set: `evidence` is a list of (title, file).

    Side effects: the files kept (each judged by content), status → the office's conclusion, audit row,
    a notification to the office.
    """
    data_note = (data_note or "").strip()
    evidence = [(title.strip(), file) for title, file in evidence if file is not None]
    if not data_note:
        raise InvalidInput(_("Summarise the school year's work and data."))
    if not 1 <= len(evidence) <= MAX_EVIDENCE:
        raise InvalidInput(_("Upload between 1 and %(count)s evidence files.") % {"count": MAX_EVIDENCE})
    for title, file in evidence:
        if not title:
            raise InvalidInput(_("Give every evidence file a title."))
        uploads.validate_upload(file, file.name, file.size)
    with transaction.atomic():
        review = _lock(review)
        _require_status(review, Status.DATA)
        _require(by, Role.LEAD, review, _("Only the cluster's lead may submit the yearly review."))
        for title, file in evidence:
            with uploads.keeping(file, "reviews") as kept:
                ReviewEvidence.objects.create(
                    review=review,
                    title=title[:200],
                    original_name=uploads.sanitise_filename(file.name),
                    stored=kept.name,
                    sha256=kept.sha256,
                    size=kept.size,
                    uploaded_by=by,
                )
        review.data_note, review.submitted, review.submitted_by = data_note, timezone.now(), by
        needs_panel = evaluators_needed(review) > 0
        _move(
            review,
            Status.ASSIGNMENT if needs_panel else Status.CONCLUSION,
            by=by,
            action="yearly_review.submitted",
            fields=["data_note", "submitted", "submitted_by"],
            payload={"evidence": len(evidence)},
        )
        _tell_holders(
            office_role(review),
            review,
            _("Yearly review submitted: %(name)s"),
            _("Assign %(count)s evaluators to the review.") % {"count": evaluators_needed(review)}
            if needs_panel
            else _("Read the monitoring indicators and conclude the review."),
        )
    return review


def monitoring_rows(results):
    """The computed results as the review keeps them (JSON): code, title, value shown, threshold, pass/fail."""
    return [
        {
            "code": result.indicator.code,
            "title": result.indicator.title,
            "display": str(result.display),
            "threshold": str(result.threshold_display),
            "passed": result.passed,
            "missing": str(result.missing_data),
        }
        for result in sorted(results.values(), key=lambda result: (result.indicator.code, result.indicator.pk))
    ]


def _monitoring(review):
    """(results, data version) of the held tier's computed indicators over the year's data.

    The review pins the latest versions of the cluster's data for its school year (`datasets.pin_for`), the data an
    application of that year would read too; a year with no data imported yet reads the versions the certified
    application pinned. Computed by the application's own code (`compute_for` over `ClusterData`).
    """
    versions = pin_for(review, review.cluster, review.school_year)
    if not versions and review.data_application is not None:
        review.data_versions.set(review.data_application.data_versions.all())
        versions = pinned_versions(review)
    data = ClusterData(review.cluster, versions, on=timezone.localdate())
    results = compute_for(computed_indicators_of(review.standard), data)
    return results, data_version(review)


def compute_monitoring(review):
    """Compute the monitoring indicators of the held tier's standard (`review.standard`) from the year's data and pin
    them with their data version. Side effects: the review's `computed` and `data_version`, an audit row."""
    with transaction.atomic():
        review = _lock(review)
        _require_status(review, Status.CONCLUSION, Status.ASSIGNMENT)
        results, version = _monitoring(review)
        review.computed, review.data_version = monitoring_rows(results), version
        review.save(update_fields=["computed", "data_version"])
        audit.record(
            "yearly_review.computed",
            obj=review,
            payload={"indicators": len(review.computed), "data_version": review.data_version},
        )
    return review


def conclude(review, conclusion, *, by, reason="", rectify_by=None, to_tier="", items=()):
    """The office concludes: 保持; 限期整改 by a date with its items (dicts: indicator, concerns, required_change,
    deadline); 降级 to a named lower tier; or 撤销. A downgrade or revocation needs a reason and goes to the leader.

    Side effects: the conclusion, status (→ rectifying with a 整改 list, or → the leader's approval), audit row,
    notifications to the lead (and the leader).
    """
    reason = (reason or "").strip()
    conclusion = Conclusion(conclusion)
    today = timezone.localdate()
    with transaction.atomic():
        review = _lock(review)
        _require_status(review, Status.CONCLUSION)
        _require(by, office_role(review), review, _("Only the office running this review may conclude it."))
        if review.panel.filter(given__isnull=True).exists():
            raise IllegalTransition(_("Every evaluator's opinion must be in before the review is concluded."))
        if conclusion != Conclusion.MAINTAINED and not reason:
            raise InvalidInput(_("Give the reason for this conclusion."))
        review.to_tier, review.rectify_by = "", None
        if conclusion == Conclusion.RECTIFY:
            if rectify_by is None or rectify_by <= today:
                raise InvalidInput(_("The rectification deadline must be after today."))
            if not items:
                raise InvalidInput(_("Name at least one item to rectify."))
            for item in items:
                if item["deadline"] is None or not today < item["deadline"] <= rectify_by:
                    raise InvalidInput(
                        _("Every item's deadline must fall after today and by the rectification deadline.")
                    )
            review.rectify_by = rectify_by
        if conclusion == Conclusion.DOWNGRADE:
            if not to_tier or tier_rank(to_tier) >= tier_rank(review.tier):
                raise InvalidInput(_("Choose a tier below the one under review."))
            review.to_tier = to_tier
        review.conclusion, review.reason, review.concluded, review.concluded_by = conclusion, reason, timezone.now(), by
        to_status = {Conclusion.MAINTAINED: Status.CONCLUSION, Conclusion.RECTIFY: Status.RECTIFYING}.get(
            conclusion, Status.APPROVAL
        )
        _move(
            review,
            to_status,
            by=by,
            action="yearly_review.concluded",
            reason=reason,
            payload={"conclusion": conclusion, "rectify_by": rectify_by, "to_tier": review.to_tier},
            fields=["conclusion", "reason", "concluded", "concluded_by", "rectify_by", "to_tier"],
        )
        if conclusion == Conclusion.RECTIFY:
            rectification.open_list(
                review.cluster,
                rectification.RectificationList.Source.YEARLY_REVIEW,
                items=list(items),
                deadline=rectify_by,
                yearly_review=review,
                by=by,
            )
        if review.sanction:
            _ask_leader(review)
        _tell(
            RoleGrant.objects.holders(Role.LEAD, review),
            _("Yearly review concluded: %(name)s") % {"name": _name(review)},
            f"{conclusion.label}。{reason}",
            review,
        )
    return review


def evaluators_needed(review):
    """How many evaluators the review's panel needs: the held standard's `yearly_evaluators` (0: no panel)."""
    return review.standard.yearly_evaluators


def panel_candidates(review):
    """The active evaluators with the conflict of each with the review's cluster for its tier: [(user, reason or
    None)], by the rule of application panels (`panel.evaluators_for`)."""
    return panel.evaluators_for(review.cluster, review.tier)


def assign_panel(review, evaluators, *, by):
    """The office names the review's panel: at least the number the held standard asks for. An evaluator tied to
    the cluster (or without the evaluator role) is refused with the reason, and nothing is assigned — the rule of
    application panels (`panel.evaluator_refusal`).

    Side effects: one ReviewAssignment per evaluator, an audit row each and one for the panel, status → panel,
    notifications to the evaluators (each then has an opinion task, workflows.flows.YearlyReviewFlow.give_opinion).
    """
    evaluators = list({user.pk: user for user in evaluators}.values())
    with transaction.atomic():
        review = _lock(review)
        _require_status(review, Status.ASSIGNMENT)
        _require(by, office_role(review), review, _("Only the office running this review may assign its evaluators."))
        needed = evaluators_needed(review)
        if len(evaluators) < needed:
            raise InvalidInput(_("Assign at least %(count)s evaluators.") % {"count": needed})
        refusals = [
            reason
            for reason in (panel.evaluator_refusal(review.cluster, review.tier, user) for user in evaluators)
            if reason
        ]
        if refusals:
            raise InvalidInput(_("These evaluators cannot be assigned: %(reasons)s") % {"reasons": " ".join(refusals)})
        assignments = [
            ReviewAssignment.objects.create(review=review, evaluator=user, assigned_by=by) for user in evaluators
        ]
        for assignment in assignments:
            audit.record(
                "yearly_review.evaluator_assigned",
                actor=by,
                obj=review,
                payload={"assignment": assignment.pk, "evaluator": assignment.evaluator_id},
            )
        _move(
            review,
            Status.PANEL,
            by=by,
            action="yearly_review.panel_assigned",
            payload={"evaluators": [user.pk for user in evaluators]},
        )
        _tell(
            evaluators,
            _("Please give your opinion: %(name)s") % {"name": _name(review)},
            _("You have been assigned as an evaluator of this yearly review. Give your opinion on its page."),
            review,
        )
    return assignments


def open_assignment(review, user):
    """`user`'s assignment on the review's panel still waiting for their opinion, or None."""
    if user is None or not user.is_authenticated:
        return None
    return review.panel.filter(evaluator=user, given__isnull=True).first()


def give_opinion(assignment, opinion, reason, *, by):
    """An evaluator of the panel proposes a conclusion (保持/限期整改/降级/撤销) with a written reason. Only the
    assigned evaluator, while they hold the evaluator role, once. The last opinion moves the review to the office's
    conclusion.

    Side effects: the opinion, audit row; with the last one, status → conclusion and a notification to the office.
    """
    reason = (reason or "").strip()
    opinion = Conclusion(opinion)
    with transaction.atomic():
        review = _lock(assignment.review)
        assignment = ReviewAssignment.objects.select_for_update().get(pk=assignment.pk, review=review)
        if by is None or by.pk != assignment.evaluator_id or not roles.holds_role(by, Role.EVALUATOR):
            raise NotAllowed(_("Only the evaluator assigned to this review may give this opinion."))
        _require_status(review, Status.PANEL)
        if assignment.given is not None:
            raise IllegalTransition(_("You have already given your opinion on this review."))
        if not reason:
            raise InvalidInput(_("Give the reason for your opinion."))
        assignment.opinion, assignment.opinion_reason, assignment.given = opinion, reason, timezone.now()
        assignment.save(update_fields=["opinion", "opinion_reason", "given"])
        last = not review.panel.filter(given__isnull=True).exists()
        # The last opinion moves the review on: its audit row records that move too.
        _move(
            review,
            Status.CONCLUSION if last else Status.PANEL,
            by=by,
            action="yearly_review.opinion_given",
            reason=reason,
            payload={"assignment": assignment.pk, "opinion": opinion},
        )
        if last:
            _tell_holders(
                office_role(review),
                review,
                _("Every opinion is in: %(name)s"),
                _("Read the evaluators' opinions and conclude the review."),
            )
    return assignment


def _ask_leader(review):
    _tell_holders(
        leader_role(review),
        review,
        _("Awaiting your decision: %(name)s"),
        f"{review.get_conclusion_display()}。{review.reason}",
    )


def lapse_to_downgrade(review):
    """The rectification deadline passed with items open: the review concludes 降级 by one rung, for the leader.

    Side effects: the 整改 list lapsed, the conclusion (with the open items as its reason), status → approval,
    audit rows, notifications to the leader and the lead.
    """
    with transaction.atomic():
        review = _lock(review)
        _require_status(review, Status.RECTIFYING)
        listed = review.rectifications.filter(status=rectification.RectificationList.Status.OPEN).first()
        open_items = rectification.lapse(listed) if listed else []
        below = LADDER[tier_rank(review.tier) - 1]
        review.conclusion, review.to_tier = Conclusion.DOWNGRADE, below
        review.reason = _("Rectification items not closed by %(date)s: %(items)s") % {
            "date": review.rectify_by.isoformat(),
            "items": "；".join(item.concerns for item in open_items),
        }
        _move(
            review,
            Status.APPROVAL,
            by=None,
            action="yearly_review.concluded",
            reason=review.reason,
            payload={"conclusion": review.conclusion, "to_tier": below, "lapsed": True},
            fields=["conclusion", "to_tier", "reason"],
        )
        _ask_leader(review)
    return review


def rectification_closed(review):
    """Whether every item of the review's 整改 list has been verified."""
    return review.rectifications.filter(status=rectification.RectificationList.Status.CLOSED).exists()


def decide(review, *, by, approve, comment=""):
    """The leader approves the downgrade or revocation (a notice period follows, in which the cluster may object)
    or refuses it with a reason (the office concludes again). Side effects: the decision, status, audit row,
    notifications to the lead and the office."""
    comment = (comment or "").strip()
    with transaction.atomic():
        review = _lock(review)
        _require_status(review, Status.APPROVAL)
        _require(by, leader_role(review), review, _("Only the leader responsible for this tier may decide."))
        if not approve and not comment:
            raise InvalidInput(_("Say why you refuse the conclusion."))
        review.decided, review.decided_by, review.approved, review.decision_comment = (
            timezone.now(),
            by,
            bool(approve),
            comment,
        )
        fields = ["decided", "decided_by", "approved", "decision_comment"]
        if not approve:
            review.conclusion = ""
            fields.append("conclusion")
        _move(
            review,
            Status.NOTICE if approve else Status.CONCLUSION,
            by=by,
            action="yearly_review.decided",
            reason=comment,
            payload={"approved": bool(approve)},
            fields=fields,
        )
        people = RoleGrant.objects.holders(Role.LEAD, review) if approve else []
        _tell(
            [*people, *holders(office_role(review), review)],
            (_("Approved: %(name)s") if approve else _("Refused: %(name)s")) % {"name": _name(review)},
            _("The cluster may object until %(until)s.") % {"until": timezone.localtime(notice_ends(review)).date()}
            if approve
            else comment,
            review,
        )
    return review


def notice_ends(review):
    """When the notice period after the leader's approval ends: the held standard's 公示 days, from the
    decision. The flow's timer fires then; objections are taken until then."""
    return review.decided + timedelta(days=review.standard.publicity_days)


def raise_objection(review, text, *, by):
    """The cluster's lead objects to an approved sanction during the notice period.

    Side effects: the objection, audit row, a notification to the office."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write the objection."))
    with transaction.atomic():
        review = _lock(review)
        _require_status(review, Status.NOTICE)
        _require(by, Role.LEAD, review, _("Only the cluster's lead may object to its review."))
        if timezone.now() >= notice_ends(review):
            raise IllegalTransition(_("The notice period is over; objections are no longer taken."))
        objection = ReviewObjection.objects.create(review=review, raised_by=by, text=text)
        audit.record("yearly_review.objection_raised", actor=by, obj=review, reason=text)
        _tell_holders(
            office_role(review),
            review,
            _("Objection raised: %(name)s"),
            text,
        )
    return objection


def open_notice_objections(review):
    return review.objections.filter(resolved__isnull=True)


def end_notice(review):
    """The notice period is over: with objections open the office resolves them first. Side effect: status."""
    with transaction.atomic():
        review = _lock(review)
        _require_status(review, Status.NOTICE)
        if open_notice_objections(review).exists():
            _move(review, Status.OBJECTIONS, by=None, action="yearly_review.notice_ended")
    return review


def resolve_objection(objection, outcome, resolution, *, by):
    """The office upholds (the sanction is withdrawn, the office concludes again) or dismisses an objection.

    Side effects: the objection resolved, audit row, a notification to the lead."""
    resolution = (resolution or "").strip()
    outcome = ReviewObjection.Outcome(outcome)
    if not resolution:
        raise InvalidInput(_("Explain the resolution."))
    with transaction.atomic():
        review = _lock(objection.review)
        _require_status(review, Status.NOTICE, Status.OBJECTIONS)
        _require(by, office_role(review), review, _("Only the office running this review may resolve objections."))
        objection = ReviewObjection.objects.select_for_update().get(pk=objection.pk, review=review)
        if objection.resolved:
            raise IllegalTransition(_("This objection has already been resolved."))
        objection.outcome, objection.resolution, objection.resolved, objection.resolved_by = (
            outcome,
            resolution,
            timezone.now(),
            by,
        )
        objection.save(update_fields=["outcome", "resolution", "resolved", "resolved_by"])
        audit.record("yearly_review.objection_resolved", actor=by, obj=review, to_state=outcome, reason=resolution)
        _tell(
            RoleGrant.objects.holders(Role.LEAD, review),
            _("Objection resolved: %(name)s") % {"name": _name(review)},
            f"{outcome.label}。{resolution}",
            review,
        )
    return objection


def finish_objections(review, *, by):
    """The office has resolved every objection: the flow goes on. Refused while one is open."""
    with transaction.atomic():
        review = _lock(review)
        _require_status(review, Status.OBJECTIONS)
        _require(by, office_role(review), review, _("Only the office running this review may resolve objections."))
        if open_notice_objections(review).exists():
            raise IllegalTransition(_("Resolve every objection first."))
    return review


def objection_upheld(review):
    return review.objections.filter(outcome=ReviewObjection.Outcome.UPHELD, resolved__gte=review.decided).exists()


def reopen(review):
    """An objection was upheld: the sanction is withdrawn and the office concludes again. Side effects: status,
    conclusion cleared, audit row, a notification to the office."""
    with transaction.atomic():
        review = _lock(review)
        _require_status(review, Status.NOTICE, Status.OBJECTIONS)
        review.conclusion = ""
        _move(review, Status.CONCLUSION, by=None, action="yearly_review.reopened", fields=["conclusion"])
        _tell_holders(
            office_role(review),
            review,
            _("Conclude again: %(name)s"),
            _("An objection was upheld; the sanction is withdrawn."),
        )
    return review


def _close(review, outcome, *, by=None):
    review.outcome, review.closed = outcome, timezone.now()
    _move(
        review,
        Status.CLOSED,
        by=by,
        action="yearly_review.closed",
        payload={"outcome": outcome},
        fields=["outcome", "closed"],
    )
    _tell(
        [*RoleGrant.objects.holders(Role.LEAD, review), *holders(office_role(review), review)],
        _("Yearly review closed: %(name)s") % {"name": _name(review)},
        YearlyReview.Outcome(outcome).label,
        review,
    )


def keep_tier(review):
    """保持, or a 整改 list closed by its deadline: the review closes and the tier stays."""
    with transaction.atomic():
        review = _lock(review)
        _require_status(review, Status.CONCLUSION, Status.RECTIFYING)
        _close(review, YearlyReview.Outcome.MAINTAINED, by=review.concluded_by)
    return review


def take_effect(review):
    """The approved sanction takes effect after the notice period: the tier falls (downgrade) or the certificate is
    revoked. Side effects: the tier steps' (tier, history, certificate), the review closed, audit rows."""
    with transaction.atomic():
        review = _lock(review)
        _require_status(review, Status.NOTICE, Status.OBJECTIONS)
        on = timezone.localdate()
        reason_text = review.reason
        if review.conclusion == Conclusion.REVOKE:
            revoke(review.cluster, by=review.decided_by, reason_text=reason_text, on=on)
            outcome = YearlyReview.Outcome.REVOKED
        else:
            downgrade(review.cluster, to_tier=review.to_tier, by=review.decided_by, reason_text=reason_text, on=on)
            outcome = YearlyReview.Outcome.DOWNGRADED
        _close(review, outcome, by=review.decided_by)
    return review


def rectify_deadline(review):
    """The moment the 整改 deadline has passed: the start of the day after it, local time."""
    return timezone.make_aware(datetime.combine(review.rectify_by + timedelta(days=1), time.min))


# The role that takes each person's step of the review's flow (workflows.flows.YearlyReviewFlow), by node name.
STEP_ROLES = {
    "submit_data": lambda review: Role.LEAD,
    "assign_panel": office_role,
    "give_opinion": lambda review: Role.EVALUATOR,
    "conclude": office_role,
    "leader_decision": leader_role,
    "resolve_objections": office_role,
}


def step_role(review, step):
    """Who takes the review's step `step` (a node name of the review's flow), or None for a step nobody takes."""
    role_of = STEP_ROLES.get(step)
    return role_of(review) if role_of else None


def supervising_role(review, role):
    """Who hears of a step left overdue past the grace period: the office above the lead, the leader above the
    office, the office (which runs the review) above the leader."""
    office = office_role(review)
    return {Role.LEAD: office, office: leader_role(review)}.get(role, office)


def send_step_deadline_notice(review, *, task_id, kind, title, due, step, assignee=None):
    """One deadline notice of the review's step `step` (the engine finds the tasks; workflows.deadlines), sent once.

    DUE_SOON and OVERDUE go to the holders of the step's role (an evaluator's opinion: to `assignee`, the evaluator
    whose task it is); ESCALATED to those of the supervising role. Side
    effects: a SentReminder row (unique key, so a second run sends nothing); notifications and e-mails. Returns
    True when sent.
    """
    role = step_role(review, step)
    if role is None:
        return False
    # An evaluator's step is theirs alone (the task's owner), not everyone's holding the role.
    evaluator_step = role == Role.EVALUATOR
    doers = [assignee] if evaluator_step and assignee is not None else [] if evaluator_step else holders(role, review)
    recipients = holders(supervising_role(review, role), review) if kind == SentReminder.Kind.ESCALATED else doers
    subject, body = deadline_message(kind, review.cluster.name, title, due, doers)
    try:
        with transaction.atomic():
            SentReminder.objects.create(
                key=task_reminder_key(task_id, kind, due),
                kind=kind,
                application=review.data_application,
                deadline=due,
            )
            _tell(recipients, subject, body, review)
    except IntegrityError:
        # Already sent, by an earlier run or a concurrent one.
        return False
    return True
