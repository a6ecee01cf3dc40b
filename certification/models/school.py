from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    """学段. A nine-year school (九年一贯) teaches both primary and junior grades."""

    KINDERGARTEN = "kindergarten", _("Kindergarten")
    PRIMARY = "primary", _("Primary")
    JUNIOR = "junior", _("Junior secondary")
    NINE_YEAR = "nine_year", _("Nine-year")
    SENIOR = "senior", _("Senior secondary")


def expand_stages(stages):
    """Stages a school actually teaches: a nine-year school counts as primary and junior."""
    result = set(stages)
    if Stage.NINE_YEAR in result:
        result |= {Stage.PRIMARY, Stage.JUNIOR}
    return result


def validate_stages(value):
    if not isinstance(value, list):
        raise ValidationError(_("Choose at least one school stage."))
    unknown = [item for item in value if item not in Stage.values]
    if unknown:
        raise ValidationError(_("Unknown school stage: %(stages)s"), params={"stages": ", ".join(map(str, unknown))})


class School(models.Model):
    """A school or kindergarten; a member of one or more clusters."""

    class Kind(models.TextChoices):
        SCHOOL = "school", _("School")
        COMMUNITY = "community", _("Community school")

    name = models.CharField(_("name"), max_length=100)
    district = models.ForeignKey(
        "certification.Region",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="schools",
        limit_choices_to={"kind": "district"},
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SCHOOL)
    stages = models.JSONField(_("school stages"), default=list, blank=True, validators=[validate_stages])
    is_relatively_weak = models.BooleanField(_("relatively weak school"), default=False)
    student_count = models.PositiveIntegerField(_("students"), default=0)
    teacher_count = models.PositiveIntegerField(_("teachers"), default=0)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["district", "name"]
        constraints = [models.UniqueConstraint(fields=["district", "name"], name="school_unique_name_in_district")]

    def __str__(self):
        return self.name

    def clean(self):
        # A community school (社区学校, seed 003) is a member unit that teaches no school stage.
        if not self.stages and self.kind != self.Kind.COMMUNITY:
            raise ValidationError({"stages": _("Choose at least one school stage.")})

    def get_stages_display(self):
        labels = dict(Stage.choices)
        return "、".join(str(labels.get(stage, stage)) for stage in self.stages)

    def teaches(self, stage):
        return stage in expand_stages(self.stages)
