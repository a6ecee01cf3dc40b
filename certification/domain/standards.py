"""Publishing, retiring and versioning standards. A published version is frozen; changes go into a new draft."""

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.models import Dimension, EvidenceRequirement, Indicator, Standard

from . import audit
from .errors import IllegalTransition, InvalidInput


def validate_for_publication(standard):
    """Return a list of problems that keep a draft from being published (empty when it can be)."""
    problems = []
    indicators = list(standard.indicators())
    if not indicators:
        problems.append(_("The standard has no indicators."))
    total = sum((indicator.max_score for indicator in indicators), start=0)
    if total != standard.total_score:
        problems.append(
            _("The indicators' maximum scores add up to %(sum)s, not the total score %(total)s.")
            % {"sum": total, "total": standard.total_score}
        )
    if standard.pass_score > standard.total_score:
        problems.append(_("The pass score is above the total score."))
    for indicator in indicators:
        try:
            indicator.clean()
        except Exception as error:  # ValidationError: collect every indicator's problem, not just the first
            problems.append(f"{indicator.code}: {'; '.join(getattr(error, 'messages', [str(error)]))}")
    return problems


def publish(standard, *, by):
    """Publish a draft: it becomes the version in force for its tier, and earlier published versions retire.

    Side effects: audit rows for the publication and for each retirement.
    Applications already open keep the version they pinned.
    """
    with transaction.atomic():
        standard = Standard.objects.select_for_update().get(pk=standard.pk)
        if standard.status != Standard.Status.DRAFT:
            raise IllegalTransition(_("Only a draft can be published."))
        problems = validate_for_publication(standard)
        if problems:
            raise InvalidInput(_("The standard cannot be published: %(problems)s") % {"problems": "；".join(problems)})
        for older in Standard.objects.published().filter(tier=standard.tier).exclude(pk=standard.pk):
            older.status = Standard.Status.RETIRED
            older.save(update_fields=["status"], _allow_locked=True)
            audit.record("standard.retired", actor=by, obj=older, from_state="published", to_state="retired")
        standard.status = Standard.Status.PUBLISHED
        standard.published = timezone.now()
        standard.save(update_fields=["status", "published"])
        audit.record("standard.published", actor=by, obj=standard, from_state="draft", to_state="published")
    return standard


def new_version(standard, *, by):
    """Copy a standard, with its dimensions, indicators and evidence requirements, into the next draft version."""
    with transaction.atomic():
        next_number = (Standard.objects.filter(tier=standard.tier).aggregate(v=Max("version"))["v"] or 0) + 1
        draft = Standard.objects.create(
            tier=standard.tier,
            version=next_number,
            title=standard.title,
            description=standard.description,
            total_score=standard.total_score,
            pass_score=standard.pass_score,
            publicity_days=standard.publicity_days,
            validity_years=standard.validity_years,
            disagreement_tolerance=standard.disagreement_tolerance,
            aggregation=standard.aggregation,
            derived_from=standard,
        )
        for dimension in standard.dimensions.prefetch_related("indicators__evidence_requirements"):
            new_dimension = Dimension.objects.create(
                standard=draft, code=dimension.code, title=dimension.title, order=dimension.order
            )
            for indicator in dimension.indicators.all():
                requirements = list(indicator.evidence_requirements.all())
                indicator.pk = None
                indicator.id = None
                indicator._state.adding = True
                indicator.dimension = new_dimension
                indicator.save()
                EvidenceRequirement.objects.bulk_create(
                    EvidenceRequirement(
                        indicator=indicator,
                        stage=requirement.stage,
                        code=requirement.code,
                        title=requirement.title,
                        required=requirement.required,
                        dataset=requirement.dataset,
                    )
                    for requirement in requirements
                )
        audit.record("standard.new_version", actor=by, obj=draft, payload={"from_version": standard.version})
    return draft


def indicator_total(standard):
    return Indicator.objects.filter(dimension__standard=standard).aggregate(s=Sum("max_score"))["s"] or 0
