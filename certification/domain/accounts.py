"""Sign-in protection: the audit of django-axes' lockouts (axes counts failures and refuses locked users itself)."""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from certification.models import User

from . import audit


def record_lockout(*, username, ip_address):
    """Too many failed sign-ins: audit the lockout of `username` from `ip_address`, once per cool-off period.

    axes reports a lockout again for every attempt made while locked; one audit row per lockout is enough (the
    attempts themselves are in axes' access failure log). Side effects: audit row "login.locked_out" naming the
    account, if it exists. Returns the audit event, or None when this lockout was already recorded.
    """
    username = (username or "")[:150]
    cool_off = settings.AXES_COOLOFF_TIME
    key = f"login-lockout-audited:{username}:{ip_address}"
    if not cache.add(key, True, timeout=int(cool_off.total_seconds())):
        return None
    account = User.objects.filter(username=username).first() if username else None
    with transaction.atomic():
        return audit.record(
            "login.locked_out",
            actor=None,
            obj=account,
            reason=f"{settings.AXES_FAILURE_LIMIT} failed sign-ins",
            payload={
                "username": username,
                "ip_address": ip_address,
                "cool_off_minutes": int(cool_off.total_seconds() // 60),
            },
        )


def audit_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    """Receiver of axes' `user_locked_out` signal (connected in CertificationConfig.ready): `record_lockout`."""
    record_lockout(username=username, ip_address=ip_address)
