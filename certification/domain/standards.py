"""Standards as data: loading, publishing and versioning them. A published version is frozen.

A standard travels as one plain dict; its rules are `certification.models.standard_rules.validate_standard_data`.
`load_standard` (fixtures, Excel import, new versions) and `validate_for_publication` (drafts edited in the
admin) both go through it, so every way a standard comes in meets one bar.
"""

from django.db import transaction
from django.db.models import Max, Prefetch, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition, InvalidInput
from certification.models import Dimension, EvidenceRequirement, Indicator, Standard
from certification.models.standard_rules import (
    INDICATOR_FIELDS,
    STANDARD_FIELDS,
    Problem,
    describe_path,
    number_text,
    validate_standard_data,
)

from . import audit


class StandardRejected(InvalidInput):
    """The data of a standard broke one or more rules; `problems` lists every one of them."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(
            _("The standard was not saved because of %(count)s problem(s): %(problems)s")
            % {"count": len(self.problems), "problems": "；".join(p.message for p in self.problems[:10])}
        )


def _next_version(tier):
    return (Standard.objects.filter(tier=tier).aggregate(v=Max("version"))["v"] or 0) + 1


def _new_indicator(dimension, order, item):
    levels = [
        {
            "level": level["level"],
            "min_score": number_text(level["min_score"]),
            "max_score": number_text(level["max_score"]),
            "descriptor": level["descriptor"],
        }
        for level in item["levels"]
    ]
    fields = {name: item[name] for name in INDICATOR_FIELDS}
    return Indicator(dimension=dimension, order=order, levels=levels, **fields)


def load_standard(data, *, by=None, publish=False, derived_from=None):
    """Validate a standard's dict and save it as a new draft; publish it too when `publish` is true.

    Every rule is checked before anything is written: on any problem `StandardRejected` lists them all and
    nothing is saved. `data["version"]` is kept when given (it must be free); without it the draft takes the
    tier's next version, so an import never overwrites an existing version.

    Side effects: an audit row "standard.loaded"; with `publish`, those of `publish` (earlier versions retire).
    """
    with transaction.atomic():
        standard = _save_new(data, derived_from=derived_from)
        audit.record(
            "standard.loaded",
            actor=by,
            obj=standard,
            to_state=standard.status,
            payload={"tier": standard.tier, "version": standard.version},
        )
        if publish:
            standard = publish_standard(standard, by=by)
    return standard


def _save_new(data, *, derived_from):
    """Check `data` and save it as a draft, numbered as `load_standard` says; raise `StandardRejected` on any problem."""
    cleaned, problems = validate_standard_data(data)
    if problems:
        raise StandardRejected(problems)
    # Serialise version numbering per tier: two imports at once must not pick the same number.
    list(Standard.objects.select_for_update().filter(tier=cleaned["tier"]).values_list("pk"))
    version = cleaned["version"] or _next_version(cleaned["tier"])
    if Standard.objects.filter(tier=cleaned["tier"], version=version).exists():
        raise StandardRejected(
            [Problem(("version",), _("Version %(version)s of this tier already exists.") % {"version": version})]
        )
    fields = {name: cleaned[name] for name in STANDARD_FIELDS}
    standard = Standard.objects.create(tier=cleaned["tier"], version=version, derived_from=derived_from, **fields)
    indicators, evidence = [], []
    for dimension_order, dimension_data in enumerate(cleaned["dimensions"], 1):
        dimension = Dimension.objects.create(
            standard=standard, code=dimension_data["code"], title=dimension_data["title"], order=dimension_order
        )
        for order, item in enumerate(dimension_data["indicators"], 1):
            indicators.append(_new_indicator(dimension, order, item))
            evidence.append(item["evidence"])
    Indicator.objects.bulk_create(indicators)
    EvidenceRequirement.objects.bulk_create(
        EvidenceRequirement(indicator=indicator, **requirement)
        for indicator, requirements in zip(indicators, evidence, strict=True)
        for requirement in requirements
    )
    return standard


def standard_as_data(standard):
    """The standard as the plain dict `load_standard` reads: the inverse of loading, used by the exports."""
    dimensions = []
    ordered_indicators = Prefetch(
        "indicators",
        queryset=Indicator.objects.order_by("order", "code").prefetch_related("evidence_requirements"),
    )
    for dimension in standard.dimensions.order_by("order", "code").prefetch_related(ordered_indicators):
        indicators = []
        for indicator in dimension.indicators.all():
            indicators.append(
                {
                    "code": indicator.code,
                    "title": indicator.title,
                    "description": indicator.description,
                    "source": indicator.source,
                    "max_score": number_text(indicator.max_score),
                    "method": indicator.method,
                    "metric": indicator.metric,
                    "comparator": indicator.comparator,
                    "threshold": indicator.threshold,
                    "threshold_high": indicator.threshold_high,
                    "levels": [dict(level) for level in indicator.levels or []],
                    "veto": indicator.veto,
                    "na_allowed": indicator.na_allowed,
                    "evidence": [
                        {
                            "stage": requirement.stage,
                            "code": requirement.code,
                            "title": requirement.title,
                            "required": requirement.required,
                            "dataset": requirement.dataset,
                        }
                        for requirement in indicator.evidence_requirements.all()
                    ],
                }
            )
        dimensions.append({"code": dimension.code, "title": dimension.title, "indicators": indicators})
    return {
        "tier": standard.tier,
        "version": standard.version,
        "title": standard.title,
        "description": standard.description,
        "total_score": number_text(standard.total_score),
        "pass_score": number_text(standard.pass_score),
        "publicity_days": standard.publicity_days,
        "validity_years": standard.validity_years,
        "yearly_evaluators": standard.yearly_evaluators,
        "disagreement_tolerance": number_text(standard.disagreement_tolerance),
        "aggregation": standard.aggregation,
        "due_periods": [
            {"step": step, "working_days": days} for step, days in (standard.due_working_days or {}).items()
        ],
        "dimensions": dimensions,
    }


def validate_for_publication(standard):
    """Return a list of problems that keep a draft from being published (empty when it can be).

    The same rules as loading (`validate_standard_data`), so a draft edited in the admin meets the bar an
    imported one does.
    """
    data = standard_as_data(standard)
    data["version"] = None
    _cleaned, problems = validate_standard_data(data)
    return [
        f"{where}: {problem.message}" if (where := describe_path(data, problem.path)) else problem.message
        for problem in problems
    ]


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


# `load_standard` takes a `publish` flag; this alias keeps the function reachable inside it.
publish_standard = publish


def new_version(standard, *, by):
    """Copy a standard, with its dimensions, indicators and evidence requirements, into the next draft version.

    The copy is the standard's dict (`standard_as_data`) loaded again, so it passes every rule an import passes.
    A standard that breaks a rule is not copied (`StandardRejected` lists the problems): a draft is fixed where
    it is, since drafts are editable, and a published version that a later rule refuses is exported, fixed in
    the workbook and imported, so that no draft is born broken and no second copying path exists.

    Side effects: an audit row "standard.new_version".
    """
    data = standard_as_data(standard)
    data["version"] = None
    with transaction.atomic():
        draft = _save_new(data, derived_from=standard)
        audit.record("standard.new_version", actor=by, obj=draft, payload={"from_version": standard.version})
    return draft


def indicator_total(standard):
    return Indicator.objects.filter(dimension__standard=standard).aggregate(s=Sum("max_score"))["s"] or 0
