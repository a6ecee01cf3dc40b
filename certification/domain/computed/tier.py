"""The cluster's tier history: how long it has held a tier."""

from fractions import Fraction

from django.utils.translation import gettext as _

from certification.models import Tier, holding
from certification.models.cluster import full_years

from .base import Measure, computes


@computes
def district_model_years_held(data):
    cluster = data.cluster
    changes = data.tier_changes
    rows = [
        {
            "dataset": "",
            "source": _("Tier history"),
            "from_tier": change.get_from_tier_display(),
            "to_tier": change.get_to_tier_display(),
            "effective": change.effective,
        }
        for change in changes
    ]
    on = data.on
    # The tier is derived from the certificates and this history (certification.models.holding): the unbroken run
    # of 区级 (or higher) up to the day the data are read for (the application's opening day).
    since = holding.held_since(cluster, Tier.DISTRICT_MODEL, on, history=changes)  # read once, oldest first
    if since is None:
        return Measure(value=Fraction(0), rows=rows, detail={"since": None, "on": on})
    return Measure(value=Fraction(max(full_years(since, on), 0)), rows=rows, detail={"since": since, "on": on})
