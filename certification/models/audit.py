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
    class Action(models.TextChoices):
        """What an audit row records. Every action has a label: the dossier's history shows it, never the code."""

        APPLICATION_OPENED = "application.opened", _("Application opened")
        EVIDENCE_UPLOADED = "evidence.uploaded", _("Evidence uploaded")
        EVIDENCE_WITHDRAWN = "evidence.withdrawn", _("Evidence withdrawn")
        STAGE_SUBMITTED = "stage.submitted", _("Evidence stage submitted")
        APPLICATION_EVIDENCE_COMPLETE = "application.evidence_complete", _("All evidence stages submitted")
        FORMAL_REVIEW_PASSED = "formal_review.passed", _("Formal review passed")
        FORMAL_REVIEW_CORRECTION_REQUESTED = "formal_review.correction_requested", _("Correction requested")
        CORRECTION_SUBMITTED = "correction.submitted", _("Correction submitted")
        EVALUATOR_ASSIGNED = "evaluator.assigned", _("Evaluator assigned")
        EVALUATORS_ASSIGNED = "evaluators.assigned", _("Evaluation panel assigned")
        EVALUATOR_RECUSED = "evaluator.recused", _("Evaluator recused")
        EVALUATOR_REPLACED = "evaluator.replaced", _("Evaluator replaced")
        SCORE_SHEET_CREATED = "score_sheet.created", _("Score sheet started")
        SCORE_SHEET_SAVED = "score_sheet.saved", _("Score sheet saved")
        SCORE_SHEET_DATA_REFRESHED = "score_sheet.data_refreshed", _("Score sheet refreshed from new data")
        SCORE_SHEET_SUBMITTED = "score_sheet.submitted", _("Score sheet submitted")
        APPLICATION_AGGREGATED = "application.aggregated", _("Scores aggregated")
        SCORING_DISAGREEMENT = "scoring.disagreement", _("Evaluators disagree")
        INDICATOR_RESULT_RECONCILED = "indicator_result.reconciled", _("Disagreement reconciled")
        APPLICATION_RECONCILED = "application.reconciled", _("Reconciliation finished")
        RESULT_CONFIRMED = "result.confirmed", _("Result confirmed")
        APPROVAL_STARTED = "approval.started", _("Sent for approval")
        APPROVAL_APPROVED = "approval.approved", _("Approved")
        APPROVAL_SENT_BACK = "approval.sent_back", _("Sent back")
        PUBLICITY_STARTED = "publicity.started", _("Publicity period started")
        OBJECTION_RAISED = "objection.raised", _("Objection raised")
        OBJECTION_RESOLVED = "objection.resolved", _("Objection resolved")
        OBJECTIONS_CLOSED = "objections.closed", _("Objections closed")
        CLUSTER_TIER_CHANGED = "cluster.tier_changed", _("Cluster tier changed")
        APPLICATION_CERTIFIED = "application.certified", _("Certified")
        APPLICATION_FAILED = "application.failed", _("Not passed")
        APPLICATION_WITHDRAWN = "application.withdrawn", _("Application withdrawn")
        EVIDENCE_REUSED = "evidence.reused", _("Earlier evidence attached")
        DATASET_IMPORT_STARTED = "dataset.import_started", _("Data import started")
        DATASET_IMPORTED = "dataset.imported", _("Data imported")
        DATASET_IMPORT_FAILED = "dataset.import_failed", _("Data import failed")
        DATASET_IMPORT_RESTARTED = "dataset.import_restarted", _("Data import restarted after an interruption")
        DATASET_WORKBOOK_REMOVED = "dataset.workbook_removed", _("Import workbook removed after the retention period")
        STORAGE_ORPHANS_REMOVED = "storage.orphans_removed", _("Orphan files removed")
        PLAN_TARGET_RECORDED = "plan_target.recorded", _("Plan target recorded")
        LOGIN_LOCKED_OUT = "login.locked_out", _("Sign-in locked after too many failed attempts")
        API_TOKEN_CREATED = "api_token.created", _("API token created")
        API_TOKEN_REVOKED = "api_token.revoked", _("API token revoked")
        EXPORT_REQUESTED = "export.requested", _("Export requested")
        CLUSTER_TIER_RECORDED = "cluster.tier_recorded", _("Cluster tier recorded")
        DEMO_PUBLICITY_SHORTENED = "demo.publicity_shortened", _("Publicity period ended early (demo)")
        EVALUATOR_REMOVED = "evaluator.removed", _("Evaluator taken off the panel")
        ROLE_GRANTED = "role.granted", _("Role granted")
        ROLE_REVOKED = "role.revoked", _("Role revoked")
        STANDARD_LOADED = "standard.loaded", _("Standard loaded")
        STANDARD_NEW_VERSION = "standard.new_version", _("New standard version drafted")
        STANDARD_PUBLISHED = "standard.published", _("Standard published")
        STANDARD_RETIRED = "standard.retired", _("Standard retired")
        CERTIFICATE_ENDED = "certificate.ended", _("Certificate ended")
        CERTIFICATE_EXPIRY_REMINDED = "certificate.expiry_reminded", _("Certificate expiry reminder sent")
        CLUSTER_DOWNGRADED = "cluster.downgraded", _("Cluster tier downgraded")
        CLUSTER_REVOKED = "cluster.revoked", _("Cluster tier revoked")
        YEARLY_REVIEW_STARTED = "yearly_review.started", _("Yearly review started")
        YEARLY_REVIEW_SUBMITTED = "yearly_review.submitted", _("Yearly review data submitted")
        YEARLY_REVIEW_COMPUTED = "yearly_review.computed", _("Monitoring indicators computed")
        YEARLY_REVIEW_CONCLUDED = "yearly_review.concluded", _("Yearly review concluded")
        YEARLY_REVIEW_DECIDED = "yearly_review.decided", _("Leader's decision on the review")
        YEARLY_REVIEW_NOTICE_ENDED = "yearly_review.notice_ended", _("Notice period over, objections open")
        YEARLY_REVIEW_REOPENED = "yearly_review.reopened", _("Yearly review back to the office")
        YEARLY_REVIEW_OBJECTION_RAISED = "yearly_review.objection_raised", _("Objection to the review raised")
        YEARLY_REVIEW_OBJECTION_RESOLVED = "yearly_review.objection_resolved", _("Objection to the review resolved")
        YEARLY_REVIEW_CLOSED = "yearly_review.closed", _("Yearly review closed")
        RECTIFICATION_OPENED = "rectification.opened", _("Rectification list opened")
        RECTIFICATION_ANSWERED = "rectification.answered", _("Rectification item answered")
        RECTIFICATION_VERIFIED = "rectification.verified", _("Rectification item verified")
        RECTIFICATION_RETURNED = "rectification.returned", _("Rectification item returned")
        RECTIFICATION_REMINDED = "rectification.reminded", _("Overdue rectification item reminded")
        RECTIFICATION_ESCALATED = "rectification.escalated", _("Overdue rectification item escalated to the leader")
        RECTIFICATION_CLOSED = "rectification.closed", _("Rectification list closed")
        RECTIFICATION_LAPSED = "rectification.lapsed", _("Rectification deadline passed with items open")
        TASK_TRANSFERRED = "task.transferred", _("Task transferred")
        TASK_DELEGATED = "task.delegated", _("Task delegated")
        TASK_DELEGATION_RETURNED = "task.delegation_returned", _("Delegated task returned")
        TASK_COVERED = "task.covered", _("Task handed to the substitute of an absent person")
        COSIGNER_ADDED = "cosigner.added", _("Co-signer added")
        COSIGNATURE_SIGNED = "cosignature.signed", _("Co-signature given")
        ABSENCE_RECORDED = "absence.recorded", _("Absence recorded")
        ABSENCE_CANCELLED = "absence.cancelled", _("Absence cancelled")
        YEARLY_REVIEW_EVALUATOR_ASSIGNED = "yearly_review.evaluator_assigned", _("Evaluator assigned to the review")
        YEARLY_REVIEW_PANEL_ASSIGNED = "yearly_review.panel_assigned", _("Review panel assigned")
        YEARLY_REVIEW_OPINION_GIVEN = "yearly_review.opinion_given", _("Evaluator's opinion on the review given")

    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=60, choices=Action.choices)
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
