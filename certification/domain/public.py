"""What the public sees without signing in: the applications in 公示, objections from the public, and certificate
verification. Everything here is read or written for an anonymous visitor, so each read returns only the fields the
public pages show (`PUBLIC_FIELDS`), never a score per evaluator, an evaluator's name or a comment.
"""

import hmac
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certification import uploads
from certification.models import Application, Certificate

from . import tiers

# An objection's attachment is evidence for the office, not a dossier: a tenth of the evidence limit at most.
DEFAULT_PUBLIC_ATTACHMENT_BYTES = 10 * 1024 * 1024
# The check code printed on a certificate: the first 16 hex digits of its SHA-256, in groups of four. The QR code
# carries the whole digest; either is accepted.
PRINTED_CODE_LENGTH = 16


def public_attachment_bytes():
    return min(
        int(getattr(settings, "PUBLIC_ATTACHMENT_MAX_BYTES", DEFAULT_PUBLIC_ATTACHMENT_BYTES)),
        uploads.max_upload_bytes(),
    )


# ---------------------------------------------------------------------------------------------- 公示


@dataclass(frozen=True)
class PublicityRow:
    """One application in 公示 as the public sees it. These are all the fields a public page renders."""

    pk: int
    district: str
    cluster: str
    tier: str
    total_score: object
    vetoes_met: object
    starts: object
    ends: object


PUBLIC_FIELDS = tuple(PublicityRow.__dataclass_fields__)


def _publicity_row(application):
    starts = timezone.localdate(application.status_changed)
    return PublicityRow(
        pk=application.pk,
        district=str(application.cluster.district),
        cluster=application.cluster.name,
        tier=application.get_target_tier_display(),
        total_score=application.total_score,
        vetoes_met=application.vetoes_met,
        starts=starts,
        ends=starts + timedelta(days=application.standard.publicity_days),
    )


def in_publicity():
    return Application.objects.filter(status=Application.Status.PUBLICITY).select_related(
        "cluster__district__parent", "standard"
    )


def publicity_by_district():
    """[(district name, [PublicityRow, ...]), ...] of every application now in 公示, in two queries at most."""
    rows = [_publicity_row(a) for a in in_publicity().order_by("cluster__district__parent__name", "status_changed")]
    grouped = {}
    for row in rows:
        grouped.setdefault(row.district, []).append(row)
    return list(grouped.items())


def publicity_row(pk):
    """The public row of application `pk` while it is in 公示, or None (unknown, or not in 公示)."""
    application = in_publicity().filter(pk=pk).first()
    return _publicity_row(application) if application is not None else None


@dataclass
class PublicObjector:
    """Someone without an account objecting on the public 公示 page (see `process.raise_objection`)."""

    name: str
    contact: str
    attachment: UploadedFile | None = None

    def store(self, application):
        """Check the attachment as evidence is checked (size, type by content, zip bombs, macros, name), keep it
        in the default storage under objections/<application>/, and return the objection's fields. Raises UploadRejected."""
        fields = {"objector_name": self.name.strip(), "objector_contact": self.contact.strip()}
        if self.attachment is None:
            return fields
        limit = public_attachment_bytes()
        uploads.check_size(self.attachment.size, limit)
        display_name = uploads.sanitise_filename(self.attachment.name)
        file_type = uploads.validate_upload(self.attachment, display_name, self.attachment.size)
        stored = uploads.keep(
            self.attachment, f"objections/{application.pk}", suffix=file_type.extensions[0], max_bytes=limit
        )
        return {
            **fields,
            "attachment_name": display_name,
            "attachment_stored": stored.name,
            "attachment_sha256": stored.sha256,
        }

    def audit_payload(self, fields):
        return {
            "channel": "public",
            "name": fields["objector_name"],
            "contact": fields["objector_contact"],
            "attachment": fields.get("attachment_name", ""),
            "attachment_sha256": fields.get("attachment_sha256", ""),
        }


# ---------------------------------------------------------------------------------------------- verification


class CertificateState:
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    DOWNGRADED = "downgraded"
    PENDING = "pending"  # a renewal's certificate, in force from the day after the one it renews ends


STATE_LABELS = {
    CertificateState.VALID: _("Valid"),
    CertificateState.EXPIRED: _("Expired"),
    CertificateState.REVOKED: _("Revoked"),
    CertificateState.DOWNGRADED: _("No longer valid: downgraded"),
    CertificateState.PENDING: _("Not yet in force (renewal)"),
}


def printed_check_code(certificate):
    """The check code as printed: 16 hex digits in upper case, grouped by four (e.g. 3F2A-09BC-77D1-E004)."""
    code = certificate.check_code[:PRINTED_CODE_LENGTH].upper()
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _normalise_code(code):
    return re.sub(r"[^0-9a-f]", "", (code or "").lower())


def code_matches(certificate, code):
    """Whether `code` is the certificate's printed check code or its whole digest. Compared in constant time."""
    given = _normalise_code(code)
    expected = certificate.check_code.lower()
    if len(given) == len(expected):
        return hmac.compare_digest(given, expected)
    return hmac.compare_digest(given, expected[:PRINTED_CODE_LENGTH])


def certificate_state(certificate, today=None):
    """valid, expired, revoked, downgraded or pending on `today` (the rule of certification.domain.tiers)."""
    return tiers.certificate_state(certificate, today or timezone.localdate())


def certificate_ended_on(certificate, today=None):
    """The first day the certificate no longer counts, once that day has come; else None."""
    today = today or timezone.localdate()
    ended = tiers.certificate_end_date(certificate)
    return ended if ended <= today else None


@dataclass(frozen=True)
class Verification:
    """What the verification page shows for a serial and check code that match. These are all its fields."""

    serial: str
    cluster: str
    district: str
    tier: str
    standard: str
    issued: object
    valid_until: object
    state: str
    state_label: str
    # The first day an expired, downgraded or revoked certificate no longer counts (None while it counts).
    ended_on: object = None


def verify_certificate(serial, code, today=None):
    """The Verification of the certificate `serial` when `code` is its check code, else None.

    An unknown serial and a wrong code both give None, so the answer never tells whether a serial exists.
    """
    certificate = (
        Certificate.objects.select_related("cluster__district__parent", "standard")
        .filter(serial=(serial or "").strip())
        .first()
    )
    if certificate is None or not code_matches(certificate, code):
        return None
    state = certificate_state(certificate, today)
    return Verification(
        serial=certificate.serial,
        cluster=certificate.cluster.name,
        district=str(certificate.cluster.district),
        tier=certificate.get_tier_display(),
        standard=_("%(title)s (version %(version)s)")
        % {"title": certificate.standard.title, "version": certificate.standard.version},
        issued=certificate.issued,
        valid_until=certificate.valid_until,
        state=state,
        state_label=STATE_LABELS[state],
        ended_on=certificate_ended_on(certificate, today),
    )


def verification_path(certificate):
    """The verification page's path with serial and whole check code: what the certificate's QR code carries."""
    query = urlencode({"serial": certificate.serial, "code": certificate.check_code})
    return f"{reverse('public:verify')}?{query}"
