"""The tier a cluster holds: derived, never stored (issue 13, items 4–6). THE CONTRACT other steps rely on.

Reading (no side effects; pure over the cluster's certificates and tier history, prefetched or not):
- `current_tier(cluster, on=None) -> Tier` — the tier held on `on` (default today). In lists use
  `Cluster.objects.with_tier(on)`, which annotates the same value in SQL as `current_tier` (filter/order/count by it).
- `held_since(cluster, tier, on=None) -> date | None` — first day of the unbroken run up to `on` in which the
  cluster held `tier` or higher (a renewal starting the day after the old certificate ends continues the run);
  None when the cluster does not hold `tier` on `on`.
- `counting_certificates(cluster, on=None)` — the certificates that give a tier on `on`.

Writing (each atomic, state-checked, with tier-history row(s), audit row(s) and notifications after commit):
- `end_certificate(certificate, *, reason, by, on, note="")` — `reason` is a TierChange.Reason among
  到期/降级/撤销 (EXPIRED/DOWNGRADED/REVOKED); `on` is the first day the certificate no longer counts. Writes one
  tier-history row (from the tier held the day before `on`, to the tier held from `on`) and `certificate.ended`.
- `downgrade(cluster, *, to_tier, by, reason_text, on=None)` — the cluster keeps `to_tier` (lower than the tier it
  holds): certificates above it end (降级), one tier-history row DOWNGRADED → `to_tier`, audit `cluster.downgraded`.
- `revoke(cluster, *, by, reason_text, on=None)` — the tier the cluster holds is withdrawn: its certificates of
  that tier end (撤销); the cluster falls to what it still validly holds below; one REVOKED row; `cluster.revoked`.
Both raise IllegalTransition (message in the user's language) when the change is impossible (nothing held, a
`to_tier` not below the held tier). They check no permission: the caller (the review flow, after the leader's
approval) has done that and passes the approving user as `by`.

Periodic (beat; without beat `manage.py fire_timers` and the office's timer button run the same functions):
- `expire_certificates(today=None)` — every certificate whose validity ended before `today` and is not yet
  ended gets `end_certificate(reason=EXPIRED, on=valid_until + 1 day)`.
- `send_expiry_reminders(today=None)` — 90 and 30 days before a certificate's end, the cluster's leads and the
  deciding office are reminded once each (a `SentReminder` row per certificate and threshold).

Renewal: an application for the tier a cluster already holds (see eligibility.check_eligibility) may be opened
from `RENEWAL_OPENS_DAYS` before the held certificate ends; `certificate.certify` then issues a certificate that
`renews` the old one and starts the day after it ends, so the tier continues without a gap.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition
from certification.models import Certificate, Cluster, SentReminder, TierChange, holding
from certification.models.tier import LADDER, Tier, decided_by_city, tier_rank

from . import audit
from .notify import city_office_of, district_office_of, leads_of, notify

# A renewal application may be opened from this many days before the held certificate ends (issue 13, item 4).
RENEWAL_OPENS_DAYS = 180
# Reminders before a certificate ends, in days (issue 13, item 4).
EXPIRY_REMINDER_DAYS = (90, 30)
# 市级 needs 区级 held at least this many whole years by the tier history (issue 13, item 5).
CITY_MODEL_NEEDS_YEARS = 1

ENDING_REASONS = (TierChange.Reason.EXPIRED, TierChange.Reason.DOWNGRADED, TierChange.Reason.REVOKED)
_ENDED_ACTION = "certificate.ended"

ONE_DAY = datetime.timedelta(days=1)


def _today(on):
    return on or timezone.localdate()


# ---------------------------------------------------------------------------------------------- reading


def current_tier(cluster, on=None):
    """The tier `cluster` holds on `on` (default today), as a Tier."""
    return holding.tier_on(cluster, _today(on))


def held_since(cluster, tier, on=None):
    """First day of the unbroken run up to `on` in which `cluster` held `tier` or higher; None if not held on `on`."""
    return holding.held_since(cluster, tier, _today(on))


def counting_certificates(cluster, on=None):
    on = _today(on)
    return [certificate for certificate in cluster.certificates.all() if certificate.counts_on(on)]


def certificate_state(certificate, on=None):
    """One of "valid", "expired", "downgraded", "revoked", "pending" (a renewal not yet started), on `on`."""
    on = _today(on)
    if certificate.ended_on is not None and certificate.ended_on <= on and certificate.end_reason:
        return certificate.end_reason
    if certificate.valid_until < on:
        return TierChange.Reason.EXPIRED.value
    if certificate.starts > on:
        return "pending"
    return "valid"


def certificate_end_date(certificate):
    """The first day the certificate no longer counts (its validity's end + 1, or the decision's date)."""
    if certificate.ended_on is not None:
        return min(certificate.ended_on, certificate.valid_until + ONE_DAY)
    return certificate.valid_until + ONE_DAY


def renewable_certificate(cluster, on=None):
    """The certificate a renewal would continue: the held tier's counting certificate ending last, not yet renewed."""
    on = _today(on)
    held = current_tier(cluster, on)
    renewed = {certificate.renews_id for certificate in cluster.certificates.all()}
    candidates = [
        certificate
        for certificate in counting_certificates(cluster, on)
        if certificate.tier == held and certificate.pk not in renewed
    ]
    return max(candidates, key=lambda certificate: certificate.valid_until, default=None)


def renewal_opens_on(certificate):
    return certificate.valid_until - datetime.timedelta(days=RENEWAL_OPENS_DAYS)


# ---------------------------------------------------------------------------------------------- writing


def _offices(cluster, tier):
    district = cluster.district
    people = district_office_of(district)
    if decided_by_city(tier) and district.parent_id:
        people += city_office_of(district.parent)
    return people


def _tell_cluster(cluster, tier, subject, body):
    notify([*leads_of(cluster), *_offices(cluster, tier)], subject, body)


def _lock_cluster(cluster):
    return Cluster.objects.select_for_update().select_related("district").get(pk=cluster.pk)


def _end(certificate, *, reason, on, note):
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.ended_on is not None:
        raise IllegalTransition(
            _("Certificate %(serial)s already ended on %(day)s.")
            % {"serial": certificate.serial, "day": certificate.ended_on.isoformat()}
        )
    certificate.ended_on = on
    certificate.end_reason = reason
    certificate.end_note = note or ""
    certificate.save(update_fields=["ended_on", "end_reason", "end_note"])
    return certificate


def _history_row(cluster, *, before, after, reason, on, by, note, application=None):
    return TierChange.objects.create(
        cluster=cluster,
        from_tier=before,
        to_tier=after,
        reason=reason,
        effective=on,
        recorded_by=by,
        note=note,
        application=application,
    )


def end_certificate(certificate, *, reason, by, on, note=""):
    """End `certificate` from `on` for `reason` (到期/降级/撤销): it no longer gives its tier from that day.

    Side effects: the certificate's `ended_on`/`end_reason`/`end_note`; one tier-history row (from the tier held
    the day before `on` to the tier held from `on`); audit `certificate.ended` (and `cluster.tier_changed` when
    the tier falls); notifications to the cluster's leads and the office. Returns the tier-history row.
    """
    reason = TierChange.Reason(reason)
    if reason not in ENDING_REASONS:
        raise IllegalTransition(_("A certificate ends only by expiry, downgrade or revocation."))
    with transaction.atomic():
        cluster = _lock_cluster(certificate.cluster)
        before = current_tier(cluster, on - ONE_DAY)
        certificate = _end(certificate, reason=reason, on=on, note=note)
        cluster = _lock_cluster(cluster)  # fresh rows for the derivation
        after = current_tier(cluster, on)
        row = _history_row(
            cluster,
            before=before,
            after=after,
            reason=reason,
            on=on,
            by=by,
            note=note or certificate.serial,
            application=certificate.application,
        )
        audit.record(
            _ENDED_ACTION,
            actor=by,
            obj=certificate,
            from_state="valid",
            to_state=reason,
            reason=note,
            payload={"serial": certificate.serial, "ended_on": on, "tier": certificate.tier},
        )
        if before != after:
            audit.record("cluster.tier_changed", actor=by, obj=cluster, from_state=before, to_state=after, reason=note)
        _tell_cluster(
            cluster,
            certificate.tier,
            _("Certificate ended: %(serial)s") % {"serial": certificate.serial},
            _(
                "%(cluster)s: certificate %(serial)s (%(tier)s) no longer counts from %(day)s (%(reason)s). Tier now: %(now)s."
            )
            % {
                "cluster": cluster.name,
                "serial": certificate.serial,
                "tier": Tier(certificate.tier).label,
                "day": on.isoformat(),
                "reason": reason.label,
                "now": after.label,
            },
        )
    return row


def downgrade(cluster, *, to_tier, by, reason_text, on=None):
    """The cluster keeps `to_tier`, lower than the tier it holds on `on`: its certificates above `to_tier` end (降级).

    Side effects: those certificates ended with reason DOWNGRADED; one tier-history row DOWNGRADED → `to_tier`
    (which is also the tier the cluster now keeps without a certificate); audit `cluster.downgraded` and
    `certificate.ended` per certificate; notifications. Returns the tier-history row.
    """
    on = _today(on)
    to_tier = Tier(to_tier)
    with transaction.atomic():
        cluster = _lock_cluster(cluster)
        held = current_tier(cluster, on)
        if tier_rank(to_tier) >= tier_rank(held):
            raise IllegalTransition(
                _("%(cluster)s holds %(held)s; a downgrade must name a lower tier, not %(tier)s.")
                % {"cluster": cluster.name, "held": held.label, "tier": to_tier.label}
            )
        ended = [
            _end(certificate, reason=TierChange.Reason.DOWNGRADED, on=on, note=reason_text)
            for certificate in counting_certificates(cluster, on)
            if tier_rank(certificate.tier) > tier_rank(to_tier)
        ]
        row = _history_row(
            cluster,
            before=held,
            after=to_tier,
            reason=TierChange.Reason.DOWNGRADED,
            on=on,
            by=by,
            note=reason_text,
        )
        _record_decision(cluster, "cluster.downgraded", ended, held=held, now=to_tier, by=by, reason_text=reason_text)
    return row


def revoke(cluster, *, by, reason_text, on=None):
    """The tier the cluster holds on `on` is withdrawn (撤销): it falls to what it still validly holds below.

    Side effects: its certificates of that tier ended with reason REVOKED; one tier-history row REVOKED → the tier
    left (which also caps the tier held without a certificate); audit `cluster.revoked` and `certificate.ended`
    per certificate; notifications. Returns the tier-history row.
    """
    on = _today(on)
    with transaction.atomic():
        cluster = _lock_cluster(cluster)
        held = current_tier(cluster, on)
        if held == Tier.NONE:
            raise IllegalTransition(
                _("%(cluster)s holds no certified tier; there is nothing to revoke.") % {"cluster": cluster.name}
            )
        rank = tier_rank(held)
        ended = [
            _end(certificate, reason=TierChange.Reason.REVOKED, on=on, note=reason_text)
            for certificate in counting_certificates(cluster, on)
            if tier_rank(certificate.tier) >= rank
        ]
        cluster = _lock_cluster(cluster)
        remaining = [tier_rank(certificate.tier) for certificate in counting_certificates(cluster, on)]
        floor = min(holding.floor_rank(holding._history(cluster), on), rank - 1)
        left = LADDER[max([floor, *remaining])]
        row = _history_row(
            cluster, before=held, after=left, reason=TierChange.Reason.REVOKED, on=on, by=by, note=reason_text
        )
        _record_decision(cluster, "cluster.revoked", ended, held=held, now=left, by=by, reason_text=reason_text)
    return row


def _record_decision(cluster, action, ended, *, held, now, by, reason_text):
    for certificate in ended:
        audit.record(
            _ENDED_ACTION,
            actor=by,
            obj=certificate,
            from_state="valid",
            to_state=certificate.end_reason,
            reason=reason_text,
            payload={"serial": certificate.serial, "ended_on": certificate.ended_on, "tier": certificate.tier},
        )
    audit.record(
        action,
        actor=by,
        obj=cluster,
        from_state=held,
        to_state=now,
        reason=reason_text,
        payload={"certificates": [certificate.serial for certificate in ended]},
    )
    subject = (_("Tier revoked: %(cluster)s") if action == "cluster.revoked" else _("Tier downgraded: %(cluster)s")) % {
        "cluster": cluster.name
    }
    _tell_cluster(
        cluster,
        held,
        subject,
        _("%(cluster)s: %(held)s → %(now)s. %(reason)s")
        % {"cluster": cluster.name, "held": held.label, "now": now.label, "reason": reason_text},
    )


# ---------------------------------------------------------------------------------------------- periodic


def expire_certificates(today=None):
    """End every certificate whose validity is over (到期). Safe to run twice. Returns the number ended."""
    today = _today(today)
    due = Certificate.objects.filter(ended_on__isnull=True, valid_until__lt=today).order_by("valid_until", "pk")
    count = 0
    for certificate in due:
        try:
            end_certificate(
                certificate,
                reason=TierChange.Reason.EXPIRED,
                by=None,
                on=certificate.valid_until + ONE_DAY,
                note=_("Validity ended on %(day)s.") % {"day": certificate.valid_until.isoformat()},
            )
        except IllegalTransition:  # a concurrent run ended it first
            continue
        count += 1
    return count


def _reminder_key(certificate, days):
    return f"certificate:{certificate.pk}:expiry:{days}"


def send_expiry_reminders(today=None):
    """90 and 30 days before a certificate ends, remind its cluster's leads and the office, once each.

    A certificate already renewed (a later certificate `renews` it) needs no reminder. When the job first runs
    inside the 30-day window only the 30-day reminder goes out. Returns the number of reminders sent.
    """
    today = _today(today)
    horizon = today + datetime.timedelta(days=max(EXPIRY_REMINDER_DAYS))
    candidates = (
        Certificate.objects.filter(ended_on__isnull=True, valid_until__gte=today, valid_until__lte=horizon)
        .filter(renewed_by__isnull=True)
        .select_related("cluster__district", "application")
        .order_by("valid_until", "pk")
    )
    sent = 0
    for certificate in candidates:
        days_left = (certificate.valid_until - today).days
        threshold = min(days for days in EXPIRY_REMINDER_DAYS if days_left <= days)
        key = _reminder_key(certificate, threshold)
        with transaction.atomic():
            _reminder, created = SentReminder.objects.get_or_create(
                key=key,
                defaults={
                    "kind": SentReminder.Kind.EXPIRY,
                    "application": certificate.application,
                    "deadline": certificate.valid_until,
                },
            )
            if not created:
                continue
            _tell_cluster(
                certificate.cluster,
                certificate.tier,
                _("Certificate expires in %(days)s days: %(cluster)s")
                % {"days": days_left, "cluster": certificate.cluster.name},
                _(
                    "Certificate %(serial)s (%(tier)s) is valid until %(until)s. A renewal application may be opened "
                    "from %(opens)s."
                )
                % {
                    "serial": certificate.serial,
                    "tier": Tier(certificate.tier).label,
                    "until": certificate.valid_until.isoformat(),
                    "opens": renewal_opens_on(certificate).isoformat(),
                },
            )
            audit.record(
                "certificate.expiry_reminded",
                obj=certificate,
                payload={
                    "serial": certificate.serial,
                    "days_before": threshold,
                    "valid_until": certificate.valid_until,
                },
            )
        sent += 1
    return sent


def run_tier_timers(today=None):
    """What beat runs daily and `fire_timers`/the office's button run on demand: (expired, reminded)."""
    return expire_certificates(today), send_expiry_reminders(today)
