from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionQuerySet(models.QuerySet):
    def cities(self):
        return self.filter(kind=Region.Kind.CITY)

    def districts(self):
        return self.filter(kind=Region.Kind.DISTRICT)


class Region(models.Model):
    """A city (市) or a district (区) under it: the scope of offices and leaders."""

    class Kind(models.TextChoices):
        CITY = "city", _("City")
        DISTRICT = "district", _("District")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("city"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="districts",
        limit_choices_to={"kind": "city"},
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="region_unique_name_in_parent"),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="city", parent__isnull=True) | models.Q(kind="district", parent__isnull=False)
                ),
                name="region_city_top_district_under_city",
            ),
        ]

    def __str__(self):
        if self.parent_id:
            return f"{self.parent.name}{self.name}"
        return self.name

    @property
    def city(self):
        return self if self.kind == self.Kind.CITY else self.parent
