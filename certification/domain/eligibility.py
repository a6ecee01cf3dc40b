"""Who may apply for what. Seed 002: 新成立 → 紧密型 → 区级示范性 → 市级示范性, one step at a time."""

from django.utils import timezone
from django.utils.translation import gettext as _

from certification.errors import NotEligible
from certification.models import Application, Standard, Tier, TierChange
from certification.models.cluster import full_years
from certification.models.tier import next_tier

from . import tiers

# `open_application` not given: look it up.
_LOOK_UP = object()


def _check_renewal(certificate, held, on):
    """A renewal (an application for the tier held) opens RENEWAL_OPENS_DAYS before the held certificate ends."""
    opens = tiers.renewal_opens_on(certificate)
    if on < opens:
        raise NotEligible(
            _(
                "A renewal of %(held)s opens on %(opens)s, %(days)s days before certificate %(serial)s ends on "
                "%(until)s."
            )
            % {
                "held": held.label,
                "opens": opens.isoformat(),
                "days": tiers.RENEWAL_OPENS_DAYS,
                "serial": certificate.serial,
                "until": certificate.valid_until.isoformat(),
            }
        )


def city_model_years_refusal(cluster, on):
    """The refusal for a 市级 application when 区级 has been held under CITY_MODEL_NEEDS_YEARS whole years by the tier
    history (issue 13, item 5), or "". Reads `cluster.certificates` and `cluster.tier_history` (a list page prefetches
    them)."""
    since = tiers.held_since(cluster, Tier.DISTRICT_MODEL, on)
    years = full_years(since, on) if since is not None else 0
    if years >= tiers.CITY_MODEL_NEEDS_YEARS:
        return ""
    return _(
        "A city-model application needs the district-model tier held for at least %(years)s year(s); "
        "%(cluster)s has held it since %(since)s."
    ) % {
        "years": tiers.CITY_MODEL_NEEDS_YEARS,
        "cluster": cluster.name,
        "since": since.isoformat() if since else "—",
    }


def highest_tier_refusal(cluster, held):
    """Why `cluster`, holding the highest tier, has nothing to apply for (readiness shows it without raising)."""
    return _("%(cluster)s already holds %(held)s, the highest tier; there is nothing higher to apply for.") % {
        "cluster": cluster.name,
        "held": held.label,
    }


def open_application_refusal(cluster, open_application):
    """Why `cluster` may not open a second application while `open_application` runs."""
    return _("%(cluster)s already has an open application (%(tier)s, %(status)s); finish or withdraw it first.") % {
        "cluster": cluster.name,
        "tier": open_application.get_target_tier_display(),
        "status": open_application.get_status_display(),
    }


def no_standard_refusal(tier):
    """Why no application for `tier` opens before a standard for it is published."""
    return _("No standard for %(tier)s has been published yet; applications open once one is.") % {"tier": tier.label}


def _check_city_model_years(cluster, on):
    refusal = city_model_years_refusal(cluster, on)
    if refusal:
        raise NotEligible(refusal)


def _revoked_note(cluster, held, on):
    """The reason of the last revocation or downgrade that brought the cluster to `held`, for a refusal."""
    last = (
        TierChange.objects.filter(
            cluster=cluster,
            reason__in=(TierChange.Reason.REVOKED, TierChange.Reason.DOWNGRADED),
            to_tier=held,
            effective__lte=on,
        )
        .order_by("-effective", "-id")
        .first()
    )
    if last is None:
        return ""
    return " " + _("%(reason)s on %(day)s: %(note)s") % {
        "reason": last.get_reason_display(),
        "day": last.effective.isoformat(),
        "note": last.note,
    }


def check_eligibility(cluster, target_tier, *, open_application=_LOOK_UP, on=None):
    """Raise NotEligible, with the reason in the user's language, unless `cluster` may apply for `target_tier`.

    The tier held is derived (certification.domain.tiers) on `on` (default today): 区级 needs a valid 紧密型, 市级 a
    valid 区级 held at least one whole year, and an application for the tier already held is a renewal, open from
    180 days before the held certificate ends. Returns the standard version in force for that tier, which a new
    application pins. A list page that has already read the cluster's open application (or knows there is none)
    passes it as `open_application`.
    """
    on = on or timezone.localdate()
    try:
        target = Tier(target_tier)
    except ValueError:
        raise NotEligible(_("Unknown tier: %(tier)s.") % {"tier": target_tier}) from None
    held = tiers.current_tier(cluster, on)
    allowed = next_tier(held)
    # The tier already held, backed by a certificate not yet renewed: a renewal.
    renewing = tiers.renewable_certificate(cluster, on) if target == held and held != Tier.NONE else None
    if renewing is not None:
        _check_renewal(renewing, held, on)
        allowed = held
    elif allowed is None:
        raise NotEligible(highest_tier_refusal(cluster, held))
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
            + _revoked_note(cluster, held, on)
        )
    if target == Tier.CITY_MODEL:
        _check_city_model_years(cluster, on)
    if open_application is _LOOK_UP:
        open_application = Application.objects.open().filter(cluster=cluster).first()
    if open_application is not None:
        raise NotEligible(open_application_refusal(cluster, open_application))
    standard = Standard.objects.in_force(target)
    if standard is None:
        raise NotEligible(no_standard_refusal(target))
    return standard
