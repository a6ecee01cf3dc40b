"""Evidence files: every upload is kept as a version of one evidence requirement of one application.

Nothing is ever overwritten or deleted. A new upload is a new version; a withdrawn file stays in the history
with who withdrew it and why. The bytes are kept in the default storage as evidence/<application id>/<generated name>
and are served only by the permission-checked views in `certification.views.evidence`.
Created and withdrawn only by `certification.domain.evidence`.
"""

from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certification.uploads import PREVIEWABLE_CONTENT_TYPES

# The only fields a stored evidence file may change after creation: withdrawing it.
WITHDRAW_FIELDS = frozenset({"withdrawn", "withdrawn_by", "withdraw_reason"})


class EvidenceIsPermanent(ValueError):
    """Raised when code tries to delete an evidence file or change anything but its withdrawal."""


class EvidenceFileQuerySet(models.QuerySet):
    def current(self):
        """Files that count as evidence: not withdrawn."""
        return self.filter(withdrawn__isnull=True)

    def for_application(self, application):
        return self.filter(application=application)

    def for_stage(self, stage):
        return self.filter(requirement__stage=stage)

    def with_people(self):
        return self.select_related("uploaded_by", "withdrawn_by")

    def delete(self):
        raise EvidenceIsPermanent("evidence files are never deleted; withdraw them instead")

    def update(self, **kwargs):
        if not set(kwargs) <= WITHDRAW_FIELDS:
            raise EvidenceIsPermanent("a stored evidence file cannot change; upload a new version instead")
        return super().update(**kwargs)


class EvidenceFile(models.Model):
    application = models.ForeignKey(
        "certification.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="evidence_files",
    )
    requirement = models.ForeignKey(
        "certification.EvidenceRequirement",
        verbose_name=_("evidence requirement"),
        on_delete=models.PROTECT,
        related_name="files",
    )
    version = models.PositiveIntegerField(_("version"))
    original_name = models.CharField(_("file name"), max_length=255)
    # The name in the default storage, generated from a UUID: nothing of the user's file name reaches the file system.
    # Not unique: a file reused as evidence again (domain.evidence.reuse_evidence) is a new row naming the same file.
    stored_name = models.CharField(_("stored as"), max_length=200, db_index=True, editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    content_type = models.CharField(
        _("content type"), max_length=100, help_text=_("Detected from the content, not taken from the browser.")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded = models.DateTimeField(_("uploaded"), default=timezone.now)
    withdrawn = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    withdraw_reason = models.TextField(_("reason for withdrawal"), blank=True)

    objects = EvidenceFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["application", "requirement", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "requirement", "version"], name="evidence_file_unique_version"
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="evidence_file_version_positive"),
        ]

    def __str__(self):
        return f"{self.original_name} (v{self.version})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= WITHDRAW_FIELDS:
                raise EvidenceIsPermanent("a stored evidence file cannot change; upload a new version instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise EvidenceIsPermanent("evidence files are never deleted; withdraw them instead")

    @property
    def is_withdrawn(self):
        return self.withdrawn is not None

    @property
    def path(self):
        """Where the file is on disk, for a storage that is a folder (FileSystemStorage) only."""
        return Path(default_storage.path(self.stored_name))

    def open(self):
        """The stored bytes, for reading, from whichever storage STORAGES names."""
        return default_storage.open(self.stored_name, "rb")

    @property
    def sha256_prefix(self):
        return self.sha256[:12]

    @property
    def previewable(self):
        return self.content_type in PREVIEWABLE_CONTENT_TYPES
