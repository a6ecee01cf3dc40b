"""Thin adapter for the tier reads and steps h13-tier owns in `certification.domain.tiers` (the tier derived from
certificates and tier history, never stored).

Written against its contract — ``downgrade(cluster, *, to_tier, by, reason_text, on)`` and
``revoke(cluster, *, by, reason_text, on)`` — so that at merge `yearly_review` changes one import
(`from .tiers import downgrade, revoke`) and `reviewable` becomes, on that branch:

    clusters = clusters.with_tier().filter(current_tier__in=tiers)
    return [(c, next((cert for cert in tiers_module.counting_certificates(c) if cert.tier == c.current_tier), None))
            for c in clusters]

then this module is deleted. Until then it reads and writes the stored `Cluster.current_tier` of main.
"""

from django.db import transaction
from django.utils import timezone

from certification.models import Certificate, Cluster, TierChange
from certification.models.tier import LADDER, Tier, tier_rank

from . import audit


def reviewable(clusters, tiers):
    """[(cluster, its valid certificate of the tier it holds, or None)] for the `clusters` holding one of `tiers`,
    row-locked. None: a tier recorded at set-up (TierChange INITIAL, the demo's) that no certificate backs."""
    clusters = list(clusters.filter(current_tier__in=tiers).select_for_update(of=("self",)).order_by("pk"))
    today = timezone.localdate()
    certificates = {}
    valid = Certificate.objects.filter(cluster__in=clusters, revoked__isnull=True, valid_until__gte=today)
    for certificate in valid.order_by("valid_until", "pk"):
        certificates[(certificate.cluster_id, certificate.tier)] = certificate
    return [(cluster, certificates.get((cluster.pk, cluster.current_tier))) for cluster in clusters]


def _change(cluster, to_tier, *, reason, by, reason_text, on):
    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    held = cluster.current_tier
    cluster.current_tier = to_tier
    cluster.tier_since = on if to_tier != Tier.NONE else None
    cluster.save(update_fields=["current_tier", "tier_since"])
    change = TierChange.objects.create(
        cluster=cluster, from_tier=held, to_tier=to_tier, reason=reason, effective=on, recorded_by=by, note=reason_text
    )
    audit.record("cluster.tier_changed", actor=by, obj=cluster, from_state=held, to_state=to_tier, reason=reason_text)
    return change


def downgrade(cluster, *, to_tier, by, reason_text, on):
    """The cluster falls to `to_tier` (a lower rung). Side effects: tier, tier history row, audit row."""
    with transaction.atomic():
        return _change(
            cluster, Tier(to_tier), reason=TierChange.Reason.DOWNGRADED, by=by, reason_text=reason_text, on=on
        )


def revoke(cluster, *, by, reason_text, on):
    """The certificate of the held tier is revoked; the cluster falls to the rung below.

    Side effects: the certificate's `revoked`, tier, tier history row, audit rows.
    """
    with transaction.atomic():
        held = Tier(Cluster.objects.select_for_update().get(pk=cluster.pk).current_tier)
        for certificate in Certificate.objects.select_for_update().filter(
            cluster=cluster, tier=held, revoked__isnull=True
        ):
            certificate.revoked = certificate.revoked or timezone.now()
            certificate.save(update_fields=["revoked"])
            audit.record("certificate.revoked", actor=by, obj=certificate, reason=reason_text)
        below = LADDER[max(tier_rank(held) - 1, 0)]
        return _change(cluster, below, reason=TierChange.Reason.REVOKED, by=by, reason_text=reason_text, on=on)
