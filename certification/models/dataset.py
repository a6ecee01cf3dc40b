"""Structured data behind computed indicators: imports of the Excel data sets and one typed row model per data set.

Data belong to a cluster and a school year, not to one application (issue 13): every finished import of a data set
for a (cluster, school year) is a numbered VERSION of it, and the history is kept. The latest version is `done`; when a
newer import of the same data set and year finishes, the older one becomes `replaced` but keeps its rows, because an
application (or a yearly review) pins the versions it used (`Application.data_versions`) and its computed indicators
and score sheets keep reading exactly those rows. Rows are written by `certification.domain.datasets`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .school import Stage


def data_school_year(application):
    """The school year (学年) whose data an application of assessment year Y reads: Y − 1, the school year that ends
    in the summer of Y (sample workbooks and the demo default to the same)."""
    return application.year - 1


class DatasetImportQuerySet(models.QuerySet):
    def current(self):
        """Imports whose rows are the latest version (one per cluster, school year and data set)."""
        return self.filter(status=DatasetImport.Status.DONE)

    def versions(self):
        """Finished imports, the latest and the replaced ones: every version a consumer may have pinned."""
        return self.filter(status__in=[DatasetImport.Status.DONE, DatasetImport.Status.REPLACED])

    def for_application(self, application):
        """The imports an application's page shows: those started from it, and the versions it pins."""
        return self.filter(models.Q(application=application) | models.Q(pinned_by=application)).distinct()

    def for_cluster_year(self, cluster, school_year):
        return self.filter(cluster=cluster, school_year=school_year)


class DatasetImport(models.Model):
    """One upload of a data set's workbook for a cluster and school year, with its validation outcome and progress.

    `application` is where the lead started it, when it was from an application's page (empty from the cluster's
    data page). `version` is numbered when the import finishes: 1, 2, … per (cluster, school year, data set).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to import")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Refused")
        REPLACED = "replaced", _("Replaced by a later import")

    cluster = models.ForeignKey(
        "certification.Cluster", verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="dataset_imports"
    )
    school_year = models.PositiveSmallIntegerField(_("school year"))
    version = models.PositiveIntegerField(_("version"), null=True, blank=True)
    application = models.ForeignKey(
        "certification.Application",
        verbose_name=_("imported from application"),
        on_delete=models.PROTECT,
        related_name="dataset_imports",
        null=True,
        blank=True,
    )
    dataset = models.CharField(_("data set"), max_length=40)
    workbook = models.FileField(_("workbook"), upload_to="datasets/%Y/%m/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, help_text=_("sha256 of the workbook."))
    years = models.JSONField(_("years"), default=list, blank=True)
    rows_count = models.PositiveIntegerField(_("rows"), default=0)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("errors found"), default=0)
    # The claim of the worker running the import: a live worker refreshes heartbeat_at with every batch it writes,
    # so a stale heartbeat means the worker died and the import can be restarted (certification.domain.datasets).
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    restarts = models.PositiveSmallIntegerField(_("restarts after an interruption"), default=0)
    evidence_files = models.ManyToManyField(
        "certification.EvidenceFile",
        verbose_name=_("kept as evidence"),
        blank=True,
        related_name="dataset_imports",
        help_text=_("The evidence versions that keep this workbook, one per requirement the data set fills."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = DatasetImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("data set import")
        verbose_name_plural = _("data set imports")
        ordering = ["cluster", "school_year", "dataset", "-created", "-id"]
        indexes = [
            models.Index(fields=["cluster", "school_year", "dataset", "status"], name="datasetimport_current"),
            models.Index(fields=["status", "heartbeat_at"], name="datasetimport_claims"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "school_year", "dataset", "version"],
                condition=models.Q(version__isnull=False),
                name="datasetimport_one_number_per_version",
            ),
            models.UniqueConstraint(
                fields=["cluster", "school_year", "dataset"],
                condition=models.Q(status="done"),
                name="datasetimport_one_latest_version",
            ),
        ]

    def __str__(self):
        return f"{self.cluster} · {self.school_year} · {self.dataset} · {self.created:%Y-%m-%d %H:%M}"

    @property
    def is_finished(self):
        return self.status in {self.Status.DONE, self.Status.FAILED, self.Status.REPLACED}

    @property
    def is_interrupted(self):
        """Failed because its workers kept dying, not because of its content."""
        return self.status == self.Status.FAILED and any(error.get("interrupted") for error in self.errors[:1])

    @property
    def is_stalled(self):
        """Running with a heartbeat older than CLAIM_STALE_SECONDS: its worker died and the sweep has not run yet."""
        if self.status != self.Status.RUNNING or self.heartbeat_at is None:
            return False
        return (timezone.now() - self.heartbeat_at).total_seconds() > settings.CLAIM_STALE_SECONDS


class DatasetRowQuerySet(models.QuerySet):
    def current(self, cluster, school_year):
        """The rows of the latest version of this data set for the cluster and school year."""
        return self.filter(
            dataset_import__cluster=cluster,
            dataset_import__school_year=school_year,
            dataset_import__status=DatasetImport.Status.DONE,
        )

    def for_application(self, application):
        """The rows of the versions the application pins: what its computed indicators read."""
        return self.filter(dataset_import__pinned_by=application)


class DatasetRow(models.Model):
    """Fields every data set row has: the import (data version) it came from and its row in the sheet."""

    dataset_import = models.ForeignKey(
        DatasetImport, verbose_name=_("import"), on_delete=models.CASCADE, related_name="+"
    )
    row_number = models.PositiveIntegerField(_("row in the sheet"))
    # Every record belongs to a school year, so "more than last year" and year-on-year gains can be computed.
    year = models.PositiveSmallIntegerField(_("school year"))

    objects = DatasetRowQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["row_number"]


class SchoolYearRow(DatasetRow):
    """A data set row about one school in one school year."""

    school = models.ForeignKey(
        "certification.School", verbose_name=_("school"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta(DatasetRow.Meta):
        abstract = True


class TeacherStage(models.TextChoices):
    """The stage a rotated teacher teaches. A nine-year school's teachers teach primary or junior."""

    KINDERGARTEN = Stage.KINDERGARTEN.value, Stage.KINDERGARTEN.label
    PRIMARY = Stage.PRIMARY.value, Stage.PRIMARY.label
    JUNIOR = Stage.JUNIOR.value, Stage.JUNIOR.label
    SENIOR = Stage.SENIOR.value, Stage.SENIOR.label


class RotationRecord(DatasetRow):
    """交流轮岗名册: one teacher's rotation from one school to another."""

    teacher = models.CharField(_("teacher"), max_length=100)
    from_school = models.ForeignKey(
        "certification.School", verbose_name=_("from school"), on_delete=models.PROTECT, related_name="+"
    )
    to_school = models.ForeignKey(
        "certification.School", verbose_name=_("to school"), on_delete=models.PROTECT, related_name="+"
    )
    from_stage = models.CharField(_("from stage"), max_length=20, choices=TeacherStage.choices)
    to_stage = models.CharField(_("to stage"), max_length=20, choices=TeacherStage.choices)
    backbone = models.BooleanField(_("backbone teacher"))
    start_date = models.DateField(_("start date"))
    term_years = models.DecimalField(_("term in years"), max_digits=4, decimal_places=1)

    class Meta(DatasetRow.Meta):
        verbose_name = _("rotation record")
        verbose_name_plural = _("rotation records")

    def __str__(self):
        return f"{self.teacher} {self.start_date}"


class EligibleTeachers(SchoolYearRow):
    """符合交流条件教师: the denominator of rotation rates, per school and year."""

    teachers = models.PositiveIntegerField(_("eligible teachers"))

    class Meta(DatasetRow.Meta):
        verbose_name = _("eligible teachers")
        verbose_name_plural = _("eligible teachers")

    def __str__(self):
        return f"{self.school_id} {self.year}: {self.teachers}"


class SharedCourse(DatasetRow):
    """共享课程: one course offered in one semester, by a provider school to the schools taking part."""

    course = models.CharField(_("course"), max_length=200)
    provider = models.ForeignKey(
        "certification.School", verbose_name=_("provider school"), on_delete=models.PROTECT, related_name="+"
    )
    semester = models.CharField(_("semester"), max_length=7)
    participant_ids = models.JSONField(_("schools taking part"), default=list)
    students = models.PositiveIntegerField(_("students who took it"))
    high_quality = models.BooleanField(_("high-quality course"))
    grade_students = models.PositiveIntegerField(_("students in the offered grades"), null=True, blank=True)
    grades = models.CharField(_("grades offered"), max_length=100, blank=True)

    class Meta(DatasetRow.Meta):
        verbose_name = _("shared course")
        verbose_name_plural = _("shared courses")

    def __str__(self):
        return f"{self.course} {self.semester}"


class SchoolStats(SchoolYearRow):
    """学校基本数据: students and teachers of a school in a year, and how many the cluster's work reaches."""

    students = models.PositiveIntegerField(_("students"))
    teachers = models.PositiveIntegerField(_("teachers"))
    teachers_in_cluster_work = models.PositiveIntegerField(_("teachers in cluster work"))
    students_covered = models.PositiveIntegerField(_("students covered by shared resources"))

    class Meta(DatasetRow.Meta):
        verbose_name = _("school statistics")
        verbose_name_plural = _("school statistics")

    def __str__(self):
        return f"{self.school_id} {self.year}"


class AcademicResult(SchoolYearRow):
    """学业质量: a school's results in one stage and year of the city's academic quality monitoring."""

    stage = models.CharField(_("stage"), max_length=20, choices=TeacherStage.choices)
    # Counts, not a typed percentage: the share at pass level is computed exactly from them, and 应考尽考
    # (everyone who should sit the test did) is tested ÷ enrolled (seed 002 §12).
    enrolled = models.PositiveIntegerField(_("students who should be tested"))
    students = models.PositiveIntegerField(_("students"))
    mean_score = models.DecimalField(_("mean score"), max_digits=7, decimal_places=2)
    passed = models.PositiveIntegerField(_("students at pass level or above"))
    district_pass_share = models.DecimalField(_("district average share (%)"), max_digits=5, decimal_places=2)

    class Meta(DatasetRow.Meta):
        verbose_name = _("academic result")
        verbose_name_plural = _("academic results")

    def __str__(self):
        return f"{self.school_id} {self.stage} {self.year}"


class EnrolmentResult(SchoolYearRow):
    """招生入学: quota-to-school plan and quality senior-high entry of a junior school in a year."""

    graduates = models.PositiveIntegerField(_("graduates"))
    quota_plan = models.PositiveIntegerField(_("quota plan"))
    quota_filled = models.PositiveIntegerField(_("quota filled"))
    quality_entry_rate = models.DecimalField(_("quality senior-high entry rate (%)"), max_digits=5, decimal_places=2)
    district_quality_entry_rate = models.DecimalField(_("district average (%)"), max_digits=5, decimal_places=2)

    class Meta(DatasetRow.Meta):
        verbose_name = _("enrolment result")
        verbose_name_plural = _("enrolment results")

    def __str__(self):
        return f"{self.school_id} {self.year}"


class SatisfactionSurvey(DatasetRow):
    """满意度: one group's survey in a year."""

    class Group(models.TextChoices):
        PARENTS = "parents", pgettext_lazy("survey group", "Parents")
        TEACHERS = "teachers", pgettext_lazy("survey group", "Teachers")
        STUDENTS = "students", pgettext_lazy("survey group", "Students")
        # One survey of every respondent, for a standard that pools the groups (metric satisfaction_pooled).
        EVERYONE = "everyone", pgettext_lazy("survey group", "All respondents")

    group = models.CharField(_("group"), max_length=20, choices=Group.choices)
    respondents = models.PositiveIntegerField(_("respondents"))
    satisfied = models.PositiveIntegerField(_("satisfied"))

    class Meta(DatasetRow.Meta):
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")

    def __str__(self):
        return f"{self.group} {self.year}"
