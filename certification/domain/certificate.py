"""The end of the process: the certificate (serial, check code, the cluster's tier) or failure with its 整改 list."""

import hashlib
import json
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition
from certification.models import (
    Application,
    Certificate,
    Cluster,
    Objection,
    TierChange,
)
from certification.models.tier import Tier
from certification.scope import everyone

from . import audit, rectification, tiers
from ._steps import (
    _lock,
    _move,
    _name,
    _require_status,
    _tell,
)
from .aggregation import failed_items
from .queries import objection_upheld, open_objections

# Certificate serial numbers: XQRZ-<year>-<tier>-<number>.
SERIAL_TIER = {Tier.CLOSE_KNIT: "紧密", Tier.DISTRICT_MODEL: "区示范", Tier.CITY_MODEL: "市示范"}


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


def certificate_check_code(certificate):
    """SHA-256 over the certificate's content: serial, cluster, tier, standard version, dates."""
    content = {
        "serial": certificate.serial,
        "application": certificate.application_id,
        "cluster": certificate.cluster_id,
        "cluster_name": certificate.cluster.name,
        "tier": certificate.tier,
        "standard": certificate.standard_id,
        "standard_version": certificate.standard.version,
        "issued": certificate.issued.isoformat(),
        "valid_until": certificate.valid_until.isoformat(),
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _next_serial(tier, year):
    prefix = f"XQRZ-{year}-{SERIAL_TIER[Tier(tier)]}-"
    last = (
        Certificate.objects.select_for_update()
        .filter(serial__startswith=prefix)
        .order_by("-serial")
        .values_list("serial", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def certify(application, *, by=None, today=None):
    """公示 is over with no objection open or upheld: issue the certificate and raise the cluster's tier.

    Side effects: a Certificate (serial, tier, standard version, validity, check code), the cluster's tier and
    tier history, status → certified, audit rows, notifications to everyone involved.
    """
    with transaction.atomic():
        application = _lock(application)
        _require_status(application, Application.Status.PUBLICITY)
        if open_objections(application).exists():
            raise IllegalTransition(_("Open objections hold the certificate until the office resolves them."))
        if objection_upheld(application):
            raise IllegalTransition(_("An objection was upheld; the application cannot be certified."))
        issued = today or timezone.localdate()
        standard = application.standard
        cluster = Cluster.objects.select_for_update().get(pk=application.cluster_id)
        held = tiers.current_tier(cluster, issued)
        # A renewal (the tier already held) continues the certificate it renews: the new validity starts the day
        # after the old one ends, so the tier has no gap and no overlap.
        renews = tiers.renewable_certificate(cluster, issued) if held == application.target_tier else None
        starts = max(issued, renews.valid_until + timedelta(days=1)) if renews is not None else issued
        certificate = Certificate(
            serial=_next_serial(application.target_tier, issued.year),
            application=application,
            cluster=application.cluster,
            tier=application.target_tier,
            standard=standard,
            issued=issued,
            valid_from=starts if starts != issued else None,
            valid_until=_add_years(starts, standard.validity_years),
            renews=renews,
        )
        certificate.check_code = certificate_check_code(certificate)
        certificate.save()
        TierChange.objects.create(
            cluster=cluster,
            from_tier=held,
            to_tier=application.target_tier,
            reason=TierChange.Reason.CERTIFIED,
            effective=starts,
            recorded_by=by,
            application=application,
            note=certificate.serial,
        )
        audit.record(
            "cluster.tier_changed",
            actor=by,
            application=application,
            obj=cluster,
            from_state=held,
            to_state=application.target_tier,
            payload={"certificate": certificate.serial},
        )
        _move(
            application,
            Application.Status.CERTIFIED,
            by=by,
            action="application.certified",
            payload={"certificate": certificate.serial, "check_code": certificate.check_code},
        )
        _tell(
            everyone(application),
            _("Certified: %(name)s") % {"name": _name(application)},
            _("Certificate %(serial)s, valid until %(until)s.")
            % {"serial": certificate.serial, "until": certificate.valid_until.isoformat()},
            application=application,
        )
    return certificate


def rectification_list(application):
    """The 整改 list of a failed application: failed indicators and vetoes, and upheld objections."""
    items = [
        {
            "code": item.indicator.code,
            "title": item.indicator.title,
            "value": item.value,
            "max_score": item.max_score,
            "reasons": [str(reason) for reason in item.reasons],
        }
        for item in failed_items(application)
    ]
    for objection in application.objections.filter(outcome=Objection.Outcome.UPHELD):
        items.append(
            {
                "code": _("Objection"),
                "title": objection.text,
                "value": None,
                "max_score": None,
                "reasons": [objection.resolution],
            }
        )
    return items


def fail(application, *, reason, by=None):
    """The application ends without a certificate, with its 整改 list; the cluster may apply again.

    Side effects: status → failed (closed), audit row carrying the 整改 list, notifications to everyone involved.
    """
    with transaction.atomic():
        application = _lock(application)
        if not application.is_open:
            raise IllegalTransition(_("This application is already closed."))
        items = rectification_list(application)
        _move(
            application,
            Application.Status.FAILED,
            by=by,
            action="application.failed",
            reason=reason,
            payload={"rectification": items},
        )
        if items:
            rectification.open_for_failed_application(application, items, by=by)
        _tell(
            everyone(application),
            _("Not certified: %(name)s") % {"name": _name(application)},
            _("%(reason)s The rectification list names %(count)s item(s); the cluster may apply again.")
            % {"reason": reason, "count": len(items)},
            application=application,
        )
    return application
