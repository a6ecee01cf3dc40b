"""What the API shows of each object. Read-only shapes, plus the small inputs of the write endpoints.

Labels are the models' verbose names or gettext strings; the schema turns each into the field's (Chinese)
description (`workflows.api.schema.ApiSchema`).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from rest_framework import serializers

from certification.datasets import DATASETS
from certification.models import (
    ApiToken,
    Application,
    ApplicationStage,
    Certificate,
    Cluster,
    ClusterMembership,
    DatasetImport,
    Dimension,
    EvidenceFile,
    EvidenceRequirement,
    Indicator,
    Region,
    School,
    Standard,
    TierChange,
)
from certification.models.tier import CERTIFIABLE, Tier


def display(source, label):
    """The Chinese label of a choice field."""
    return serializers.CharField(source=f"get_{source}_display", read_only=True, label=label)


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(label=_("Error code (stable, for programs)"))
    message = serializers.CharField(label=_("The message shown to people, in their language"))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        label=_("Messages per input field"),
    )


class RegionSerializer(serializers.ModelSerializer):
    kind_display = display("kind", _("kind (label)"))

    class Meta:
        model = Region
        fields = ["id", "name", "kind", "kind_display", "parent"]


class SchoolSerializer(serializers.ModelSerializer):
    kind_display = display("kind", _("kind (label)"))

    class Meta:
        model = School
        fields = [
            "id",
            "name",
            "district",
            "kind",
            "kind_display",
            "stages",
            "is_relatively_weak",
            "student_count",
            "teacher_count",
        ]
        extra_kwargs = {"stages": {"label": _("school stages")}}


class MembershipSerializer(serializers.ModelSerializer):
    role_display = display("role", _("role (label)"))
    school_name = serializers.CharField(source="school.name", read_only=True, label=_("school name"))

    class Meta:
        model = ClusterMembership
        fields = ["school", "school_name", "role", "role_display", "joined"]


class TierChangeSerializer(serializers.ModelSerializer):
    from_tier_display = display("from_tier", _("from tier (label)"))
    to_tier_display = display("to_tier", _("to tier (label)"))
    reason_display = display("reason", _("reason (label)"))

    class Meta:
        model = TierChange
        fields = [
            "id",
            "from_tier",
            "from_tier_display",
            "to_tier",
            "to_tier_display",
            "reason",
            "reason_display",
            "note",
            "effective",
            "application",
        ]


class ClusterSerializer(serializers.ModelSerializer):
    kind_display = display("kind", _("kind (label)"))
    # Derived (certification.domain.tiers): the viewset annotates the tier and prefetches the rows behind "since".
    current_tier = serializers.CharField(read_only=True, label=_("current tier"))
    current_tier_display = serializers.CharField(
        source="get_current_tier_display", read_only=True, label=_("current tier (label)")
    )
    tier_since = serializers.DateField(read_only=True, allow_null=True, label=_("tier held since"))
    members = MembershipSerializer(source="memberships", many=True, read_only=True, label=_("member schools"))
    tier_history = TierChangeSerializer(many=True, read_only=True, label=_("tier history"))

    class Meta:
        model = Cluster
        fields = [
            "id",
            "name",
            "kind",
            "kind_display",
            "group_model",
            "district",
            "founded_on",
            "current_tier",
            "current_tier_display",
            "tier_since",
            "members",
            "tier_history",
        ]


class EvidenceRequirementSerializer(serializers.ModelSerializer):
    stage_display = display("stage", _("stage (label)"))

    class Meta:
        model = EvidenceRequirement
        fields = ["id", "code", "title", "stage", "stage_display", "required", "dataset"]


class IndicatorSerializer(serializers.ModelSerializer):
    method_display = display("method", _("method (label)"))
    evidence_requirements = EvidenceRequirementSerializer(many=True, read_only=True, label=_("evidence required"))

    class Meta:
        model = Indicator
        fields = [
            "id",
            "code",
            "title",
            "description",
            "max_score",
            "method",
            "method_display",
            "metric",
            "comparator",
            "threshold",
            "threshold_high",
            "veto",
            "na_allowed",
            "evidence_requirements",
        ]


class DimensionSerializer(serializers.ModelSerializer):
    indicators = IndicatorSerializer(many=True, read_only=True, label=_("indicators"))

    class Meta:
        model = Dimension
        fields = ["id", "code", "title", "order", "indicators"]


class StandardSerializer(serializers.ModelSerializer):
    tier_display = display("tier", _("tier (label)"))
    status_display = display("status", _("status (label)"))

    class Meta:
        model = Standard
        fields = [
            "id",
            "tier",
            "tier_display",
            "version",
            "title",
            "description",
            "status",
            "status_display",
            "total_score",
            "pass_score",
            "publicity_days",
            "validity_years",
            "published",
        ]


class StandardDetailSerializer(StandardSerializer):
    dimensions = DimensionSerializer(many=True, read_only=True, label=_("dimensions"))

    class Meta(StandardSerializer.Meta):
        fields = [*StandardSerializer.Meta.fields, "dimensions"]


class StageSerializer(serializers.ModelSerializer):
    stage_display = display("stage", _("stage (label)"))
    status_display = display("status", _("status (label)"))

    class Meta:
        model = ApplicationStage
        fields = ["stage", "stage_display", "status", "status_display", "submitted"]


class ApplicationSerializer(serializers.ModelSerializer):
    cluster_name = serializers.CharField(source="cluster.name", read_only=True, label=_("cluster name"))
    target_tier_display = display("target_tier", _("target tier (label)"))
    status_display = display("status", _("status (label)"))
    stages = StageSerializer(many=True, read_only=True, label=_("evidence stages"))

    class Meta:
        model = Application
        fields = [
            "id",
            "cluster",
            "cluster_name",
            "target_tier",
            "target_tier_display",
            "standard",
            "year",
            "status",
            "status_display",
            "created",
            "status_changed",
            "closed",
            "total_score",
            "vetoes_met",
            "passed",
            "stages",
        ]


class OpenApplicationSerializer(serializers.Serializer):
    """The start form's fields; the start form itself checks them (the lead's own clusters only)."""

    cluster = serializers.IntegerField(label=_("Cluster"), min_value=1)
    target_tier = serializers.ChoiceField(
        label=_("Target tier"), choices=[(tier.value, tier.label) for tier in Tier if tier in CERTIFIABLE]
    )


class EvidenceFileSerializer(serializers.ModelSerializer):
    requirement_code = serializers.CharField(source="requirement.code", read_only=True, label=_("requirement code"))
    stage = serializers.CharField(source="requirement.stage", read_only=True, label=_("stage"))
    uploaded_by_name = serializers.CharField(source="uploaded_by", read_only=True, label=_("uploaded by"))
    current = serializers.SerializerMethodField(label=_("current version (not withdrawn, not superseded)"))

    class Meta:
        model = EvidenceFile
        fields = [
            "id",
            "requirement",
            "requirement_code",
            "stage",
            "version",
            "original_name",
            "size",
            "content_type",
            "sha256",
            "uploaded",
            "uploaded_by_name",
            "withdrawn",
            "withdraw_reason",
            "current",
        ]

    def get_current(self, obj) -> bool:
        return obj.pk in self.context.get("current_ids", ())


class EvidenceUploadSerializer(serializers.Serializer):
    requirement = serializers.IntegerField(label=_("Evidence requirement"), min_value=1)
    file = serializers.FileField(label=_("File"))


class ImportErrorSerializer(serializers.Serializer):
    sheet = serializers.CharField(label=_("sheet"), allow_blank=True)
    row = serializers.IntegerField(label=_("row"), allow_null=True)
    column = serializers.CharField(label=_("column"), allow_blank=True)
    header = serializers.CharField(label=_("column header"), allow_blank=True, required=False)
    field = serializers.CharField(
        label=_("the column's key in rows sent as JSON (empty for the file as a whole)"), allow_blank=True
    )
    message = serializers.CharField(label=_("message"))


class DatasetImportSerializer(serializers.ModelSerializer):
    status_display = display("status", _("status (label)"))
    finished_import = serializers.BooleanField(source="is_finished", read_only=True, label=_("finished"))
    errors = serializers.SerializerMethodField(label=_("errors found, by sheet, row and column"))

    class Meta:
        model = DatasetImport
        fields = [
            "id",
            "dataset",
            "school_year",
            "version",
            "original_name",
            "status",
            "status_display",
            "progress",
            "rows_count",
            "years",
            "error_count",
            "errors",
            "finished_import",
            "created",
            "finished",
        ]

    @extend_schema_field(ImportErrorSerializer(many=True))
    def get_errors(self, dataset_import):
        """The stored errors, each with the key of its column as rows sent as JSON name it."""
        dataset = DATASETS.get(dataset_import.dataset)
        keys = {column.header: column.key for column in dataset.columns} if dataset else {}
        errors = [{**error, "field": keys.get(error.get("header") or "", "")} for error in dataset_import.errors or []]
        return ImportErrorSerializer(errors, many=True).data


@extend_schema_field(
    {
        "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
        "nullable": True,
    }
)
class CellField(serializers.Field):
    """One cell of a data set row sent as JSON: what a workbook cell can hold."""

    default_error_messages = {
        "not_a_cell": _("A cell holds text, a number, true/false or nothing; not a list or an object."),
        "unstorable": _("The text holds control characters that a workbook cannot store."),
    }

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, dict | list):
            self.fail("not_a_cell")
        if isinstance(data, str) and ILLEGAL_CHARACTERS_RE.search(data):
            self.fail("unstorable")
        return data

    def to_representation(self, value):
        return value


class DatasetRowsSerializer(serializers.Serializer):
    rows = serializers.ListField(
        child=serializers.DictField(child=CellField(), allow_empty=True),
        allow_empty=True,
        label=_("The data rows, one object per row keyed by the data set's column keys"),
    )

    def validate_rows(self, rows):
        """Keys that are not the data set's columns are refused by row, before anything is imported."""
        dataset = self.context["dataset"]
        keys = {column.key for column in dataset.columns}
        unknown = {}
        for index, row in enumerate(rows):
            for key in row:
                if key not in keys:
                    message = _("This data set has no column “%(key)s”. Its columns are: %(keys)s.") % {
                        "key": key,
                        "keys": "、".join(column.key for column in dataset.columns),
                    }
                    unknown.setdefault(str(index), {})[key] = [message]
        if unknown:
            raise serializers.ValidationError(unknown)
        return rows


class DatasetUploadSerializer(serializers.Serializer):
    dataset = serializers.CharField(label=_("Data set code"), max_length=40)
    file = serializers.FileField(label=_("Workbook (.xlsx)"))


class ComputedIndicatorSerializer(serializers.Serializer):
    indicator = serializers.IntegerField(source="indicator.pk", label=_("indicator"))
    code = serializers.CharField(source="indicator.code", label=_("code"))
    title = serializers.CharField(source="indicator.title", label=_("title"))
    value = serializers.SerializerMethodField(label=_("value (exact decimal), or empty without data"))
    display = serializers.CharField(label=_("value as shown"))
    threshold = serializers.CharField(source="threshold_display", label=_("threshold"))
    passed = serializers.BooleanField(allow_null=True, label=_("passed (empty: not decided)"))
    not_applicable = serializers.BooleanField(label=_("not applicable"))
    missing_data = serializers.CharField(label=_("what data is missing"))
    detail = serializers.SerializerMethodField(label=_("how the figure was computed"))
    rows = serializers.SerializerMethodField(label=_("the data rows behind the figure"))

    @extend_schema_field(OpenApiTypes.STR)
    def get_value(self, result):
        return None if result.value is None else f"{float(result.value):.6f}"

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_detail(self, result):
        return _plain(result.detail)

    @extend_schema_field({"type": "array", "items": {"type": "object", "additionalProperties": True}})
    def get_rows(self, result):
        return _plain(result.rows)


def _plain(value):
    """Rows and details hold dates, decimals, fractions and model objects: give JSON-friendly values."""
    if isinstance(value, dict):
        return {str(key): _plain(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(inner) for inner in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(label=_("task"))
    node = serializers.CharField(source="flow_task.name", label=_("step code"))
    title = serializers.CharField(source="flow_task.task_title", label=_("step"))
    application = serializers.SerializerMethodField(label=_("application"))
    status = serializers.CharField(label=_("task status"))
    assigned_to_me = serializers.SerializerMethodField(label=_("assigned to me"))
    created = serializers.DateTimeField(label=_("created"))
    data = serializers.JSONField(label=_("task data"), read_only=True)

    def get_application(self, task) -> int | None:
        pk = task.process.artifact_object_id
        return int(pk) if pk else None

    def get_assigned_to_me(self, task) -> bool:
        request = self.context.get("request")
        return request is not None and task.owner_id == request.user.pk


class TaskResultSerializer(serializers.Serializer):
    task = serializers.IntegerField(label=_("task"), allow_null=True)
    status = serializers.CharField(label=_("task status"), allow_null=True)
    application = serializers.IntegerField(label=_("application"), allow_null=True)
    application_status = serializers.CharField(label=_("application status"), allow_null=True)
    message = serializers.CharField(label=_("message shown to the person"), allow_blank=True)


class ObjectionSerializer(serializers.Serializer):
    text = serializers.CharField(label=_("Objection"))


class CertificateSerializer(serializers.ModelSerializer):
    cluster_name = serializers.CharField(source="cluster.name", read_only=True, label=_("cluster name"))
    tier_display = display("tier", _("tier (label)"))
    standard_version = serializers.IntegerField(source="standard.version", read_only=True, label=_("standard version"))
    valid = serializers.SerializerMethodField(label=_("authentic and in force today"))
    # The day a revocation ended it (kept for clients of the former field); `ended_on`/`end_reason` say any ending.
    revoked = serializers.DateField(read_only=True, allow_null=True, label=_("revoked"))
    end_reason_display = display("end_reason", _("end reason (label)"))

    class Meta:
        model = Certificate
        fields = [
            "serial",
            "cluster",
            "cluster_name",
            "tier",
            "tier_display",
            "standard",
            "standard_version",
            "issued",
            "valid_from",
            "valid_until",
            "revoked",
            "ended_on",
            "end_reason",
            "end_reason_display",
            "valid",
        ]

    def get_valid(self, certificate) -> bool:
        return self.context["valid"]


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created", "last_used", "revoked"]
        read_only_fields = ["prefix", "created", "last_used", "revoked"]


class NewApiTokenSerializer(ApiTokenSerializer):
    secret = serializers.CharField(read_only=True, label=_("the token; shown only this once"))

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "secret"]
