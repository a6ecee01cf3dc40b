"""The cluster's tier history: how long it has held a tier."""

from fractions import Fraction

from django.utils.translation import gettext as _

from certification.models import Tier
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
    if cluster.current_tier != Tier.DISTRICT_MODEL:
        return Measure(value=Fraction(0), rows=rows, detail={"since": None, "on": on})
    reached = [change.effective for change in changes if change.to_tier == Tier.DISTRICT_MODEL]
    since = cluster.tier_since or (reached[-1] if reached else None)
    if since is None:
        return Measure(rows=rows, missing=_("The date the cluster became a district model is not recorded."))
    return Measure(value=Fraction(max(full_years(since, on), 0)), rows=rows, detail={"since": since, "on": on})
