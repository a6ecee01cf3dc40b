"""A tamper-evident history: every transition, score and upload is one row in a keyed hash chain.

Rows form one chain per application (or per object, or the site chain for the rest): each row's hash is an
HMAC-SHA256, under a key kept outside the database (settings.AUDIT_KEYS, recorded by `key_id`), of its own content
and the previous row's hash. Changing or deleting a row breaks every hash after it, and nobody without the key can
recompute them. Chains are independent, so unrelated applications never wait for one another; a periodic
`AuditAnchor` seals every chain's head into one anchor chain, whose head is also written outside the database.
`certification.domain.audit.verify` checks all of it. On PostgreSQL a trigger refuses UPDATE and DELETE on both tables.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=60)
    application = models.ForeignKey(
        "certification.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    from_state = models.CharField(_("from"), max_length=40, blank=True)
    to_state = models.CharField(_("to"), max_length=40, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    chain = models.CharField(_("chain"), max_length=120)
    seq = models.PositiveBigIntegerField(_("position in chain"))
    key_id = models.CharField(_("key id"), max_length=16)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_event_unique_chain_seq")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit events are append-only")


class AuditChainHead(models.Model):
    """The head of one chain, locked while appending to that chain only: writers on other chains never wait.

    `anchored_length` is how much of the chain the last anchor sealed, so an anchor lists only the chains that grew.
    """

    chain = models.CharField(max_length=120, unique=True)
    length = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
    anchored_length = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self):
        return f"{self.chain} #{self.length}"


class AuditAnchor(models.Model):
    """A seal of every chain's head at one moment, itself chained by HMAC; its head is also kept outside the database.

    `heads` maps each chain that grew since the previous anchor to [length, last hash]; `events` is the number of
    audit rows then. Truncating a chain below an anchored length, or the anchor chain below the anchor file, is found.
    """

    seq = models.PositiveBigIntegerField(_("anchor number"), unique=True)
    at = models.DateTimeField(_("time"))
    events = models.PositiveBigIntegerField(_("audit rows"))
    heads = models.JSONField(_("chain heads"), default=dict)
    key_id = models.CharField(_("key id"), max_length=16)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit anchor")
        verbose_name_plural = _("audit anchors")
        ordering = ["seq"]

    def __str__(self):
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("audit anchors are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit anchors are append-only")
