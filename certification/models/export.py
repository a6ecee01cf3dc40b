"""Excel exports built in the background: the page polls the job's progress and downloads the finished file."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    """One requested export. The file is kept in the default storage under exports/ and served only to its requester."""

    class Kind(models.TextChoices):
        APPLICATION = "application", _("Evaluation summary of an application")
        DISTRICT = "district", _("District summary of applications")
        SELECTION = "selection", _("Summary of selected applications")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    application = models.ForeignKey(
        "certification.Application",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    district = models.ForeignKey(
        "certification.Region",
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )

    # The applications of a SELECTION export (an office's bulk export), each checked against the requester's scope.
    applications = models.ManyToManyField(
        "certification.Application", verbose_name=_("applications"), related_name="+", blank=True
    )

    class FileFormat(models.TextChoices):
        XLSX = "xlsx", _("Excel (.xlsx)")
        # Text cells that a spreadsheet would evaluate are quote-prefixed (OWASP's CSV-injection advice).
        CSV = "csv", _("CSV (.csv)")

    file_format = models.CharField(_("file format"), max_length=10, choices=FileFormat.choices, default=FileFormat.XLSX)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    file_path = models.CharField(_("file"), max_length=300, blank=True, help_text=_("Relative to MEDIA_ROOT."))
    error = models.TextField(_("error"), blank=True)
    # As for data set imports: the building worker's claim, refreshed as it writes; stale means the worker died.
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="+"
    )
    created = models.DateTimeField(_("requested"), auto_now_add=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="application", application__isnull=False, district__isnull=True)
                    | models.Q(kind="district", district__isnull=False, application__isnull=True)
                    | models.Q(kind="selection", district__isnull=True, application__isnull=True)
                ),
                name="exportjob_subject_matches_kind",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.created:%Y-%m-%d %H:%M}"

    @property
    def is_finished(self):
        return self.status in {self.Status.DONE, self.Status.FAILED}
