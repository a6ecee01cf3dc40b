from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """A day that breaks the Monday-to-Friday rule: a weekday off (法定节假日) or a weekend day worked (调休上班日).

    China's holidays and 调休 workdays change every year (the State Council publishes them each November), so the
    administrator keeps this table; every deadline counts working days through `certification.domain.workdays`.
    """

    class Kind(models.TextChoices):
        OFF = "off", _("Day off")
        WORKDAY = "workday", _("Adjusted working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("holiday calendar")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"
