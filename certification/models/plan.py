"""The district's plan targets (规划目标): what share or number of clusters should hold a tier by a target year."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .tier import CERTIFIABLE, Tier


class PlanTarget(models.Model):
    """One target of a district's plan for a year, with the sentence of the policy text it comes from.

    Progress is never stored: `certification.domain.plans` computes it from the tier history for any date.
    """

    class Measure(models.TextChoices):
        SHARE_AT_TIER = "share_at_tier", _("Share of the district's clusters at or above the tier")
        COUNT_AT_TIER = "count_at_tier", _("Number of clusters at or above the tier")
        YEARS_TO_TIER = "years_to_tier", _("New clusters reaching the tier within the years after founding")

    district = models.ForeignKey(
        "certification.Region",
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        related_name="plan_targets",
        limit_choices_to={"kind": "district"},
    )
    year = models.PositiveSmallIntegerField(_("target year"))
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    tier = models.CharField(_("tier"), max_length=20, choices=[c for c in Tier.choices if c[0] in CERTIFIABLE])
    # Share: a percentage the value must exceed ("超过50%"). Count: the range "3-4个" (met from the low end).
    # Years: "3-5年": every cluster older than the high end must have reached the tier by then.
    low = models.DecimalField(_("target (from)"), max_digits=6, decimal_places=2)
    high = models.DecimalField(_("target (to)"), max_digits=6, decimal_places=2, null=True, blank=True)
    seed = models.CharField(_("policy document"), max_length=100)
    quote = models.TextField(_("sentence of the policy document"))
    recorded = models.DateTimeField(_("recorded"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("plan target")
        verbose_name_plural = _("plan targets")
        ordering = ["district", "year", "measure", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["district", "year", "measure", "tier"], name="plan_target_unique"),
        ]

    def __str__(self):
        return f"{self.district} · {self.year} · {self.get_measure_display()} · {self.get_tier_display()}"
