"""评估标准: a tier's published standard, its dimensions (一级指标) and indicators (二级指标).

A published version never changes: every application, score and decision points at the version it used.
A change is made as a new draft version (`certification.domain.standards.new_version`).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .standard_rules import (
    INDICATOR_FIELDS,
    MAX_DUE_WORKING_DAYS,
    Comparator,
    DueStep,
    EvidenceStage,
    IndicatorMethod,
    StandardAggregation,
    indicator_errors,
    parse_threshold,
)
from .tier import CERTIFIABLE, Tier


class StandardLocked(ValidationError):
    """Raised when something tries to change a published or retired standard."""


# Standard.Status values under which a standard and everything in it is frozen.
LOCKED_STATUSES = ("published", "retired")


def validate_threshold(text):
    try:
        parse_threshold(text)
    except (ValueError, ArithmeticError, ZeroDivisionError):
        raise ValidationError(
            _("Enter a threshold as a number such as 0.15 or 5, or a fraction such as 1/3.")
        ) from None


def validate_due_working_days(value):
    """A standard's own periods as stored ({step: working days}): the rule of `standard_rules.check_due_periods`,
    for the admin's form of a draft."""
    if not isinstance(value, dict):
        raise ValidationError(_("Write the periods as {step code: working days}."))
    for step, days in value.items():
        if step not in DueStep.values:
            raise ValidationError(
                _("“%(value)s” is not one of: %(choices)s.") % {"value": step, "choices": "、".join(DueStep.values)}
            )
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DUE_WORKING_DAYS:
            raise ValidationError(
                _("Enter a whole number from %(minimum)s to %(maximum)s, not “%(value)s”.")
                % {"minimum": 1, "maximum": MAX_DUE_WORKING_DAYS, "value": days}
            )


class LockedStandardQuerySet(models.QuerySet):
    """Bulk writes obey the same lock as `save()` and `delete()`: nothing under a published or retired standard
    changes, not even through `QuerySet.update()`, `.delete()` or `bulk_create()`.

    (Deleting a draft standard still cascades to its rows: Django's collector deletes them without these methods.)
    """

    # The lookup from this model to its standard's status, e.g. "dimension__standard__status".
    status_lookup = "status"

    def _refuse_if_locked(self, message):
        if self.filter(**{f"{self.status_lookup}__in": LOCKED_STATUSES}).exists():
            raise StandardLocked(message)

    def update(self, **kwargs):
        self._refuse_if_locked(_("A published standard cannot be changed; make a new version instead."))
        return super().update(**kwargs)

    def delete(self):
        self._refuse_if_locked(_("A published standard cannot be deleted."))
        return super().delete()

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        parent = self._parent_of_new_rows(objs)
        if parent is not None:
            parent._refuse_if_locked(_("A published standard cannot be changed; make a new version instead."))
        return super().bulk_create(objs, *args, **kwargs)

    def _parent_of_new_rows(self, objs):
        """The rows new objects would hang under, as a queryset of this kind; None for new standards."""
        return None


class StandardQuerySet(LockedStandardQuerySet):
    def published(self):
        return self.filter(status=Standard.Status.PUBLISHED)

    def in_force(self, tier):
        """The published version of a tier's standard that new applications pin."""
        return self.published().filter(tier=tier).order_by("-version").first()


class Standard(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    Aggregation = StandardAggregation

    tier = models.CharField(_("tier"), max_length=20, choices=[c for c in Tier.choices if c[0] in CERTIFIABLE])
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    total_score = models.DecimalField(_("total score"), max_digits=7, decimal_places=2)
    pass_score = models.DecimalField(_("pass score"), max_digits=7, decimal_places=2)
    publicity_days = models.PositiveSmallIntegerField(_("publicity days"), default=7)
    validity_years = models.PositiveSmallIntegerField(_("validity in years"), default=3)
    # How many evaluators the yearly review (年度评估) of a cluster holding this tier needs beside the office; 0: the
    # office concludes alone. Seed 002 (闵行区, shared/seeds/002_8209cd563b3064c1.txt) says "区级每年组织评估" and
    # that the evaluation "引入第三方专业教育评估机构": the shipped standards set it per tier (fixtures/standards).
    yearly_evaluators = models.PositiveSmallIntegerField(
        _("evaluators for the yearly review"),
        default=0,
        help_text=_("How many evaluators give an opinion in the yearly review; 0: the office concludes alone."),
    )
    disagreement_tolerance = models.DecimalField(
        _("disagreement tolerance"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.2"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("Largest spread of evaluators' scores on one indicator, as a share of its maximum."),
    )
    aggregation = models.CharField(
        _("aggregation"), max_length=20, choices=Aggregation.choices, default=Aggregation.MEAN
    )
    # The standard's own due periods, {DueStep value: working days}; a step it does not name takes the period of
    # settings.TASK_DUE_WORKING_DAYS (workflows.deadlines). Checked with the rest (standard_rules.check_due_periods).
    due_working_days = models.JSONField(
        _("due periods in working days"), default=dict, blank=True, validators=[validate_due_working_days]
    )
    published = models.DateTimeField(_("published"), null=True, blank=True)
    derived_from = models.ForeignKey(
        "self", verbose_name=_("derived from"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = StandardQuerySet.as_manager()

    class Meta:
        verbose_name = _("standard")
        verbose_name_plural = _("standards")
        ordering = ["tier", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["tier", "version"], name="standard_unique_version"),
            models.CheckConstraint(
                condition=models.Q(pass_score__lte=models.F("total_score")), name="standard_pass_le_total"
            ),
        ]

    def __str__(self):
        return f"{self.title} v{self.version}"

    def save(self, *args, **kwargs):
        # The one exception: a published version may be retired (status alone), nothing else.
        if self.pk and not kwargs.pop("_allow_locked", False):
            stored = Standard.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored is not None and stored != self.Status.DRAFT:
                raise StandardLocked(_("A published standard cannot be changed; make a new version instead."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_locked:
            raise StandardLocked(_("A published standard cannot be deleted."))
        return super().delete(*args, **kwargs)

    @property
    def is_locked(self):
        return self.status != self.Status.DRAFT

    def due_period(self, step):
        """The working days this standard gives the step `step` (a DueStep value), or None: the settings decide."""
        return (self.due_working_days or {}).get(step)

    def due_periods(self):
        """[(step label, working days)] of the steps this standard gives a period, in the flows' order."""
        periods = self.due_working_days or {}
        return [(step.label, periods[step.value]) for step in DueStep if step.value in periods]

    def indicators(self):
        return Indicator.objects.filter(dimension__standard=self).select_related("dimension")


class DimensionQuerySet(LockedStandardQuerySet):
    status_lookup = "standard__status"

    def _parent_of_new_rows(self, objs):
        return Standard.objects.filter(pk__in={obj.standard_id for obj in objs})


class IndicatorQuerySet(LockedStandardQuerySet):
    status_lookup = "dimension__standard__status"

    def _parent_of_new_rows(self, objs):
        return Dimension.objects.filter(pk__in={obj.dimension_id for obj in objs})


class EvidenceRequirementQuerySet(LockedStandardQuerySet):
    status_lookup = "indicator__dimension__standard__status"

    def _parent_of_new_rows(self, objs):
        return Indicator.objects.filter(pk__in={obj.indicator_id for obj in objs})


def _check_standard_editable(standard_id):
    status = Standard.objects.filter(pk=standard_id).values_list("status", flat=True).first()
    if status is not None and status != Standard.Status.DRAFT:
        raise StandardLocked(_("A published standard cannot be changed; make a new version instead."))


class Dimension(models.Model):
    """一级指标."""

    standard = models.ForeignKey(
        Standard, verbose_name=_("standard"), on_delete=models.CASCADE, related_name="dimensions"
    )
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = DimensionQuerySet.as_manager()

    class Meta:
        verbose_name = _("dimension")
        verbose_name_plural = _("dimensions")
        ordering = ["standard", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["standard", "code"], name="dimension_unique_code")]

    def __str__(self):
        return f"{self.code} {self.title}"

    def save(self, *args, **kwargs):
        _check_standard_editable(self.standard_id)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _check_standard_editable(self.standard_id)
        return super().delete(*args, **kwargs)


class Indicator(models.Model):
    """二级指标: computed from structured data against a threshold, or scored by evaluators against levels."""

    Method = IndicatorMethod

    dimension = models.ForeignKey(
        Dimension, verbose_name=_("dimension"), on_delete=models.CASCADE, related_name="indicators"
    )
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(
        _("source"), max_length=300, blank=True, help_text=_("The policy text the indicator comes from.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    max_score = models.DecimalField(_("maximum score"), max_digits=6, decimal_places=2)
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    metric = models.CharField(_("metric"), max_length=60, blank=True)
    comparator = models.CharField(_("comparator"), max_length=10, choices=Comparator.choices, blank=True)
    threshold = models.CharField(_("threshold"), max_length=30, blank=True, validators=[validate_threshold])
    threshold_high = models.CharField(_("upper threshold"), max_length=30, blank=True, validators=[validate_threshold])
    levels = models.JSONField(
        _("level descriptors"),
        default=list,
        blank=True,
        help_text=_("For scored indicators: a list of {level, min_score, max_score, descriptor}."),
    )
    veto = models.BooleanField(_("veto"), default=False)
    na_allowed = models.BooleanField(_("N/A allowed"), default=False)

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["dimension__order", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "code"], name="indicator_unique_code"),
            models.CheckConstraint(condition=models.Q(max_score__gt=0), name="indicator_max_positive"),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def save(self, *args, **kwargs):
        _check_standard_editable(
            Dimension.objects.filter(pk=self.dimension_id).values_list("standard_id", flat=True).first()
        )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _check_standard_editable(self.dimension.standard_id)
        return super().delete(*args, **kwargs)

    @property
    def threshold_value(self):
        return parse_threshold(self.threshold) if self.threshold else None

    @property
    def threshold_high_value(self):
        return parse_threshold(self.threshold_high) if self.threshold_high else None

    def clean(self):
        """The rules the standards validator applies to an indicator, here for the admin's form."""
        raw = {name: getattr(self, name) for name in INDICATOR_FIELDS}
        raw["levels"] = self.levels or []
        errors = indicator_errors(raw)
        if errors:
            raise ValidationError(errors)

    def passes(self, value):
        """Whether a computed value meets the threshold. Exact: values and thresholds are Fractions."""
        low = self.threshold_value
        return {
            Comparator.GTE: lambda: value >= low,
            Comparator.GT: lambda: value > low,
            Comparator.LTE: lambda: value <= low,
            Comparator.LT: lambda: value < low,
            Comparator.BETWEEN: lambda: low <= value <= self.threshold_high_value,
        }[Comparator(self.comparator)]()


class EvidenceRequirement(models.Model):
    """A piece of evidence an indicator needs, submitted in one of the three stages."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="evidence_requirements"
    )
    stage = models.CharField(_("stage"), max_length=20, choices=EvidenceStage.choices)
    code = models.CharField(_("code"), max_length=30)
    title = models.CharField(_("title"), max_length=200)
    required = models.BooleanField(_("required"), default=True)
    dataset = models.CharField(
        _("structured data set"), max_length=40, blank=True, help_text=_("Filled by importing this data template.")
    )

    objects = EvidenceRequirementQuerySet.as_manager()

    class Meta:
        verbose_name = _("evidence requirement")
        verbose_name_plural = _("evidence requirements")
        ordering = ["indicator", "stage", "code"]
        constraints = [models.UniqueConstraint(fields=["indicator", "code"], name="evidence_requirement_unique_code")]

    def __str__(self):
        return f"{self.code} {self.title}"

    def save(self, *args, **kwargs):
        standard_id = (
            Indicator.objects.filter(pk=self.indicator_id).values_list("dimension__standard_id", flat=True).first()
        )
        _check_standard_editable(standard_id)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _check_standard_editable(self.indicator.dimension.standard_id)
        return super().delete(*args, **kwargs)
