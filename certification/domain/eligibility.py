"""Who may apply for what. Seed 002: 新成立 → 紧密型 → 区级示范性 → 市级示范性, one step at a time."""

from django.utils.translation import gettext as _

from certification.errors import NotEligible
from certification.models import Application, Standard, Tier
from certification.models.tier import next_tier

# `open_application` not given: look it up.
_LOOK_UP = object()


def check_eligibility(cluster, target_tier, *, open_application=_LOOK_UP):
    """Raise NotEligible, with the reason in the user's language, unless `cluster` may apply for `target_tier`.

    Returns the standard version in force for that tier, which a new application pins. A list page that has
    already read the cluster's open application (or knows there is none) passes it as `open_application`.
    """
    try:
        target = Tier(target_tier)
    except ValueError:
        raise NotEligible(_("Unknown tier: %(tier)s.") % {"tier": target_tier}) from None
    held = Tier(cluster.current_tier)
    allowed = next_tier(held)
    if allowed is None:
        raise NotEligible(
            _("%(cluster)s already holds %(held)s, the highest tier; there is nothing higher to apply for.")
            % {"cluster": cluster.name, "held": held.label}
        )
    if target == Tier.NONE or target != allowed:
        if target == Tier.DISTRICT_MODEL:
            reason = _("A district-model application needs the close-knit tier held first.")
        elif target == Tier.CITY_MODEL:
            reason = _("A city-model application needs the district-model tier held first.")
        else:
            reason = _("A cluster applies only for the tier directly above the one it holds.")
        raise NotEligible(
            _("%(cluster)s holds %(held)s and may apply only for %(allowed)s. %(reason)s")
            % {"cluster": cluster.name, "held": held.label, "allowed": allowed.label, "reason": reason}
        )
    if open_application is _LOOK_UP:
        open_application = Application.objects.open().filter(cluster=cluster).first()
    if open_application is not None:
        raise NotEligible(
            _("%(cluster)s already has an open application (%(tier)s, %(status)s); finish or withdraw it first.")
            % {
                "cluster": cluster.name,
                "tier": open_application.get_target_tier_display(),
                "status": open_application.get_status_display(),
            }
        )
    standard = Standard.objects.in_force(target)
    if standard is None:
        raise NotEligible(
            _("No standard for %(tier)s has been published yet; applications open once one is.")
            % {"tier": target.label}
        )
    return standard
