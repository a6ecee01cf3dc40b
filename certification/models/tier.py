"""The tier ladder a cluster climbs: none → close-knit → district-model → city-model."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    NONE = "none", _("Newly founded")
    CLOSE_KNIT = "close_knit", _("Close-knit")
    DISTRICT_MODEL = "district_model", _("District model")
    CITY_MODEL = "city_model", _("City model")


LADDER = [Tier.NONE, Tier.CLOSE_KNIT, Tier.DISTRICT_MODEL, Tier.CITY_MODEL]
# Tiers a standard, an application and a certificate can be for.
CERTIFIABLE = LADDER[1:]


def tier_rank(tier):
    return LADDER.index(Tier(tier))


def next_tier(tier):
    """The only tier a cluster holding `tier` may apply for, or None at the top."""
    rank = tier_rank(tier)
    return LADDER[rank + 1] if rank + 1 < len(LADDER) else None


def decided_by_city(tier):
    """市级示范性 is recommended by the district and decided by the city (seed 002)."""
    return Tier(tier) == Tier.CITY_MODEL


# The tiers a certificate, a standard or a target can be of (every rung above 新成立), as model choices.
CERTIFIABLE_CHOICES = [choice for choice in Tier.choices if choice[0] in CERTIFIABLE]
