"""Evaluators' scoresheets and the panel's aggregated result per indicator."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScoreSheet(models.Model):
    """One evaluator's sheet for one application. Submitting freezes it and completes their scoring task."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    assignment = models.OneToOneField(
        "certification.EvaluatorAssignment",
        verbose_name=_("assignment"),
        on_delete=models.CASCADE,
        related_name="sheet",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    data_version = models.CharField(
        _("data version"), max_length=64, blank=True, help_text=_("Fingerprint of the structured data the sheet saw.")
    )
    updated = models.DateTimeField(_("updated"), auto_now=True)
    # When the evaluator last saved a draft: the sheet exists from the start of their task, unsaved until then.
    saved = models.DateTimeField(_("saved"), null=True, blank=True)
    submitted = models.DateTimeField(_("submitted"), null=True, blank=True)

    class Meta:
        verbose_name = _("score sheet")
        verbose_name_plural = _("score sheets")

    def __str__(self):
        return str(self.assignment)


class Score(models.Model):
    sheet = models.ForeignKey(
        ScoreSheet, verbose_name=_("score sheet"), on_delete=models.CASCADE, related_name="scores"
    )
    indicator = models.ForeignKey("certification.Indicator", verbose_name=_("indicator"), on_delete=models.PROTECT)
    value = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    comment = models.TextField(_("comment"), blank=True)
    computed_value = models.CharField(
        _("computed value"), max_length=60, blank=True, help_text=_("The metric's value when the sheet was filled.")
    )
    # What the data said for a computed indicator (full marks, 0, or N/A). A score that differs is an override
    # and needs a reason; a null prefill means the data could not decide and the evaluator scores freely.
    prefill_value = models.DecimalField(_("pre-filled score"), max_digits=6, decimal_places=2, null=True, blank=True)
    prefill_not_applicable = models.BooleanField(_("pre-filled as not applicable"), default=False)
    override_reason = models.TextField(_("override reason"), blank=True)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        ordering = ["sheet", "indicator__dimension__order", "indicator__order"]
        constraints = [models.UniqueConstraint(fields=["sheet", "indicator"], name="score_unique_indicator")]

    def __str__(self):
        return f"{self.indicator.code}: {self.value}"

    @property
    def has_prefill(self):
        return self.prefill_value is not None or self.prefill_not_applicable

    @property
    def is_override(self):
        """A computed indicator scored differently from what its data said."""
        if not self.has_prefill:
            return False
        if self.prefill_not_applicable:
            return not self.not_applicable
        return self.not_applicable or (self.value is not None and self.value != self.prefill_value)

    @property
    def is_complete(self):
        return self.not_applicable or self.value is not None


class IndicatorResult(models.Model):
    """The panel's combined score on one indicator, with the spread and any reconciliation."""

    application = models.ForeignKey(
        "certification.Application", verbose_name=_("application"), on_delete=models.CASCADE, related_name="results"
    )
    indicator = models.ForeignKey("certification.Indicator", verbose_name=_("indicator"), on_delete=models.PROTECT)
    value = models.DecimalField(_("combined score"), max_digits=6, decimal_places=2, null=True, blank=True)
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    spread = models.DecimalField(_("spread"), max_digits=6, decimal_places=2, default=0)
    disagreement = models.BooleanField(_("disagreement"), default=False)
    reconciled_value = models.DecimalField(_("reconciled score"), max_digits=6, decimal_places=2, null=True, blank=True)
    reconciled_reason = models.TextField(_("reconciliation reason"), blank=True)
    reconciled_by = models.ForeignKey(
        "certification.User", verbose_name=_("reconciled by"), on_delete=models.PROTECT, null=True, blank=True
    )
    veto_met = models.BooleanField(_("veto met"), null=True, blank=True)

    class Meta:
        verbose_name = _("indicator result")
        verbose_name_plural = _("indicator results")
        ordering = ["application", "indicator__dimension__order", "indicator__order"]
        constraints = [models.UniqueConstraint(fields=["application", "indicator"], name="result_unique_indicator")]

    def __str__(self):
        return f"{self.application} · {self.indicator.code}"

    @property
    def final_value(self):
        return self.reconciled_value if self.reconciled_value is not None else self.value

    @property
    def is_unreconciled(self):
        return self.disagreement and self.reconciled_value is None
