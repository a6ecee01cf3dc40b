"""Tier histories for the plan and dashboard tests: certificates and tier changes written as the domain leaves them."""

import itertools

from certification.models import Certificate, TierChange
from tests.factories.work import ApplicationFactory

_serials = itertools.count(1)


def certify(cluster, tier, issued, valid_until, *, revoked=None):
    """A certificate of `tier` for `cluster` and the tier change it made (as `process.certify` writes them)."""
    application = ApplicationFactory(cluster=cluster, target_tier=tier, status="certified")
    certificate = Certificate.objects.create(
        serial=f"TEST-{next(_serials):05d}",
        application=application,
        cluster=cluster,
        tier=tier,
        standard=application.standard,
        issued=issued,
        valid_until=valid_until,
        check_code="0" * 64,
        ended_on=revoked,
        end_reason="revoked" if revoked else "",
    )
    held = cluster.tier_history.order_by("-effective", "-id").values_list("to_tier", flat=True).first() or "none"
    TierChange.objects.create(
        cluster=cluster,
        from_tier=held,
        to_tier=tier,
        reason=TierChange.Reason.CERTIFIED,
        effective=issued,
        application=application,
    )
    return certificate


def change(cluster, to_tier, effective, reason, from_tier="none"):
    return TierChange.objects.create(
        cluster=cluster, from_tier=from_tier, to_tier=to_tier, reason=reason, effective=effective
    )
