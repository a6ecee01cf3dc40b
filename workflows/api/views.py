"""The API's endpoints. Thin: load through the user's scope, validate, call the domain function (or, for the
workflow's steps, the task page itself through `engine`), answer JSON.

Out-of-scope objects answer 404 exactly as the pages do (`certification.permissions.get_application_for`).
"""

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from certification.datasets import DATASETS
from certification.domain import computed
from certification.domain import evidence as evidence_domain
from certification.domain.certificate import certificate_check_code
from certification.domain.datasets import check_may_import, datasets_of, start_import, start_rows_import
from certification.domain.public import certificate_state
from certification.forms.evidence import EvidenceUploadForm, EvidenceWithdrawForm
from certification.models import (
    Application,
    Certificate,
    Cluster,
    ClusterMembership,
    DatasetImport,
    Dimension,
    EvidenceFile,
    EvidenceRequirement,
    EvidenceStage,
    Indicator,
    Region,
    School,
    Standard,
    TierChange,
)
from certification.permissions import get_application_for, is_administrator
from certification.uploads import EvidenceUploadLimitHandler, max_upload_bytes
from certification.views import datasets as dataset_pages
from certification.views import evidence as evidence_pages
from workflows.forms import ObjectionForm

from . import engine, filters
from . import serializers as s
from .errors import CODE_BY_STATUS, error_body


def refusal(outcome):
    """A page's refusal as the API's error body."""
    return Response(
        error_body(CODE_BY_STATUS.get(outcome.status, "conflict"), outcome.message, outcome.fields),
        status=outcome.status,
    )


def form_refusal(form, status_code=400):
    fields = {
        ("non_field_errors" if name == "__all__" else name): [error["message"] for error in errors]
        for name, errors in form.errors.get_json_data().items()
    }
    first = next(iter(fields.values()))[0]
    return Response(error_body(CODE_BY_STATUS.get(status_code, "invalid"), first, fields), status=status_code)


class ApplicationScoped:
    """Views under /applications/{application_pk}/: the application comes through the user's scope (404 outside)."""

    def get_application(self):
        if not hasattr(self, "_application"):
            self._application = get_application_for(self.request.user, self.kwargs["application_pk"])
        return self._application


def _application_parameter():
    return OpenApiParameter(
        "application_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description=gettext_lazy("application")
    )


# ----------------------------------------------------------------------------------------------- reference data


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("List regions (cities and districts)")),
    retrieve=extend_schema(summary=gettext_lazy("One region")),
)
class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.RegionSerializer
    queryset = Region.objects.order_by("id")
    filterset_class = filters.RegionFilter
    ordering_fields = ["id", "name"]


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("List schools")),
    retrieve=extend_schema(summary=gettext_lazy("One school")),
)
class SchoolViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.SchoolSerializer
    queryset = School.objects.order_by("id")
    filterset_class = filters.SchoolFilter
    ordering_fields = ["id", "name", "student_count", "teacher_count"]


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("List clusters, with member schools and tier history")),
    retrieve=extend_schema(summary=gettext_lazy("One cluster, with member schools and tier history")),
)
class ClusterViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ClusterSerializer
    filterset_class = filters.ClusterFilter
    # The tier is derived (certification.domain.tiers): ordered by its rank on the ladder; "held since" is computed
    # from prefetched rows and so is not an ordering.
    ordering_fields = ["id", "name", "tier_rank"]

    def get_queryset(self):
        return (
            Cluster.objects.with_tier()
            .prefetch_related(
                Prefetch("memberships", ClusterMembership.objects.select_related("school").order_by("id")),
                Prefetch("tier_history", TierChange.objects.order_by("effective", "id")),
                "certificates",
            )
            .order_by("id")
        )


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("List published standards")),
    retrieve=extend_schema(
        summary=gettext_lazy("One standard version with its dimensions, indicators and evidence requirements")
    ),
)
class StandardViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_class = filters.StandardFilter
    ordering_fields = ["id", "tier", "version", "published"]

    def get_queryset(self):
        standards = Standard.objects.order_by("tier", "-version", "id")
        # Drafts are the administrators' work in progress, as on the pages.
        if not is_administrator(self.request.user):
            standards = standards.published()
        if self.action == "retrieve":
            indicators = Indicator.objects.order_by("order", "code").prefetch_related(
                Prefetch("evidence_requirements", EvidenceRequirement.objects.order_by("stage", "code"))
            )
            standards = standards.prefetch_related(
                Prefetch(
                    "dimensions",
                    Dimension.objects.order_by("order", "code").prefetch_related(Prefetch("indicators", indicators)),
                )
            )
        return standards

    def get_serializer_class(self):
        return s.StandardDetailSerializer if self.action == "retrieve" else s.StandardSerializer


# ----------------------------------------------------------------------------------------------- applications


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("List the applications in your scope")),
    retrieve=extend_schema(summary=gettext_lazy("One application")),
    create=extend_schema(
        summary=gettext_lazy("Open an application"),
        description=gettext_lazy(
            "Opens an application for one of your clusters, as the start page does: eligibility is checked and the "
            "standard in force is pinned."
        ),
        request=s.OpenApplicationSerializer,
        responses={201: s.ApplicationSerializer},
    ),
)
class ApplicationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ApplicationSerializer
    filterset_class = filters.ApplicationFilter
    ordering_fields = ["id", "created", "status_changed", "year"]

    def get_queryset(self):
        return (
            Application.objects.visible_to(self.request.user)
            .select_related("cluster")
            .prefetch_related("stages")
            .order_by("-id")
        )

    def create(self, request, *args, **kwargs):
        data = s.OpenApplicationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = engine.open_application(request, data.validated_data)
        if not outcome.ok:
            return refusal(outcome)
        application = self.get_queryset().get(pk=engine.opened_application(outcome).pk)
        return Response(self.get_serializer(application).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("Raise an objection during the publicity period"),
        request=s.ObjectionSerializer,
        responses={201: s.TaskResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def objections(self, request, pk=None):
        application = get_application_for(request.user, pk)
        form = ObjectionForm(request.data)
        if not form.is_valid():
            return form_refusal(form)
        outcome = engine.raise_objection(request, application, form.cleaned_data)
        return _done(outcome, application, status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("Resolve one objection during the publicity period"),
        description=gettext_lazy("The same fields as the office's form: objection, outcome, resolution."),
        request=inline_serializer(
            "ResolveObjection",
            {
                "objection": serializers.IntegerField(label=gettext_lazy("objection")),
                "outcome": serializers.CharField(label=gettext_lazy("Outcome")),
                "resolution": serializers.CharField(label=gettext_lazy("Resolution")),
            },
        ),
        responses={200: s.TaskResultSerializer},
    )
    @action(detail=True, methods=["post"], url_path="objections/resolve")
    def resolve_objection(self, request, pk=None):
        application = get_application_for(request.user, pk)
        outcome = engine.resolve_objection(request, application, request.data)
        return _done(outcome, application)


def _done(outcome, application, status_code=status.HTTP_200_OK, task=None):
    if not outcome.ok:
        return refusal(outcome)
    application.refresh_from_db(fields=["status"])
    if task is not None:
        task.refresh_from_db(fields=["status"])
    body = {
        "task": task.pk if task is not None else None,
        "status": task.status if task is not None else None,
        "application": application.pk,
        "application_status": application.status,
        "message": outcome.message,
    }
    return Response(body, status=status_code)


# ----------------------------------------------------------------------------------------------- evidence


class RequirementStateSerializer(s.EvidenceRequirementSerializer):
    indicator_code = serializers.CharField(source="indicator.code", read_only=True, label=gettext_lazy("indicator"))
    missing = serializers.SerializerMethodField(label=gettext_lazy("required and still missing"))
    may_upload = serializers.SerializerMethodField(label=gettext_lazy("you may upload to it now"))

    class Meta(s.EvidenceRequirementSerializer.Meta):
        fields = [*s.EvidenceRequirementSerializer.Meta.fields, "indicator_code", "missing", "may_upload"]

    def get_missing(self, requirement) -> bool:
        return requirement.pk in self.context["missing"]

    def get_may_upload(self, requirement) -> bool:
        return self.context["may_manage"] and self.context["window"].allows(requirement)


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("The application's evidence requirements, with what is missing"),
        parameters=[_application_parameter()],
    )
)
class RequirementViewSet(ApplicationScoped, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = RequirementStateSerializer
    ordering_fields = ["id", "code", "stage"]
    filterset_fields = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EvidenceRequirement.objects.none()
        return evidence_domain.requirements_of(self.get_application())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        application = self.get_application()
        missing = set()
        for stage in EvidenceStage.values:
            missing |= {r.pk for r in evidence_domain.missing_requirements(application, stage)}
        context.update(
            missing=missing,
            may_manage=evidence_domain.is_cluster_lead(self.request.user, application),
            window=evidence_domain.upload_window(application),
        )
        return context


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("Every version of every evidence file of the application"),
        parameters=[_application_parameter()],
    ),
    retrieve=extend_schema(summary=gettext_lazy("One evidence file version"), parameters=[_application_parameter()]),
)
class EvidenceViewSet(ApplicationScoped, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.EvidenceFileSerializer
    filterset_class = filters.EvidenceFileFilter
    ordering_fields = ["id", "version", "uploaded"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EvidenceFile.objects.none()
        return (
            EvidenceFile.objects.for_application(self.get_application())
            .select_related("requirement", "uploaded_by")
            .order_by("requirement_id", "-version", "id")
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            current = EvidenceFile.objects.for_application(self.get_application()).current()
            context["current_ids"] = set(current.values_list("pk", flat=True))
        return context

    @extend_schema(
        summary=gettext_lazy("Download one evidence file version"),
        parameters=[_application_parameter()],
        responses={(200, "*/*"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request, application_pk=None, pk=None):
        # The page's own view: the same scope check and the same headers.
        return evidence_pages.evidence_download(request._request, application_pk=int(application_pk), file_pk=int(pk))

    @extend_schema(
        summary=gettext_lazy("Withdraw one evidence file version"),
        description=gettext_lazy(
            "The same step as the page's withdraw button: only the cluster's lead, only while the requirement's "
            "stage takes uploads (a submitted stage is refused with 409), with a reason. The file stays in the "
            "history, marked withdrawn."
        ),
        parameters=[_application_parameter()],
        request=inline_serializer(
            "EvidenceWithdraw", {"reason": serializers.CharField(label=gettext_lazy("Reason for withdrawal"))}
        ),
        responses={200: s.EvidenceFileSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def withdraw(self, request, application_pk=None, pk=None):
        evidence_file = self.get_object()
        form = EvidenceWithdrawForm(request.data)
        if not form.is_valid():
            return form_refusal(form)
        evidence_file = evidence_domain.withdraw_evidence(
            evidence_file, by=request.user, reason=form.cleaned_data["reason"]
        )
        return Response(self.get_serializer(evidence_file).data)


class EvidenceUploadView(ApplicationScoped, GenericAPIView):
    """Upload one file to one requirement, with the page's checks in the page's order."""

    parser_classes = [MultiPartParser]
    serializer_class = s.EvidenceUploadSerializer

    @extend_schema(
        summary=gettext_lazy("Upload a file to an evidence requirement"),
        description=gettext_lazy(
            "Multipart, field “file”. The same checks and limits as the page: only the cluster's lead, only while "
            "the requirement's stage takes uploads, files judged by their content. Each upload is a new version."
        ),
        parameters=[
            _application_parameter(),
            OpenApiParameter(
                "requirement_pk",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description=gettext_lazy("evidence requirement"),
            ),
        ],
        request={
            "multipart/form-data": inline_serializer(
                "EvidenceUpload", {"file": serializers.FileField(label=gettext_lazy("File"))}
            )
        },
        responses={201: s.EvidenceFileSerializer},
    )
    def post(self, request, application_pk, requirement_pk):
        application = self.get_application()
        requirement = evidence_domain.requirements_of(application).filter(pk=requirement_pk).first()
        if requirement is None:
            raise Http404(_("No such evidence requirement."))
        # Refusals that need no file first, then the size limit before the body is read: as the page.
        evidence_domain.check_may_manage(request.user, application)
        evidence_domain.check_can_upload(application, requirement)
        limit = EvidenceUploadLimitHandler(request._request, max_bytes=max_upload_bytes())
        request._request.upload_handlers.insert(0, limit)
        files = request.FILES  # reads the body, through `limit`
        refused = limit.refusal().message if limit.too_large else None
        form = EvidenceUploadForm(
            data={}, files={} if refused else files, requirement_pk=requirement.pk, refusal=refused
        )
        if not form.is_valid():
            return form_refusal(form)
        evidence_file = evidence_domain.upload_evidence(
            application, requirement, form.cleaned_data["file"], by=request.user
        )
        current = EvidenceFile.objects.for_application(application).current().values_list("pk", flat=True)
        data = s.EvidenceFileSerializer(evidence_file, context={"current_ids": set(current)}).data
        return Response(data, status=status.HTTP_201_CREATED)


# ----------------------------------------------------------------------------------------------- data sets


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("The application's data set imports"), parameters=[_application_parameter()]
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("One import: status, progress and the errors by sheet, row and column"),
        parameters=[_application_parameter()],
    ),
)
class DatasetImportViewSet(ApplicationScoped, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.DatasetImportSerializer
    filterset_class = filters.DatasetImportFilter
    ordering_fields = ["id", "created"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DatasetImport.objects.none()
        return DatasetImport.objects.for_application(self.get_application()).order_by("-id")


class DatasetUploadView(ApplicationScoped, GenericAPIView):
    parser_classes = [MultiPartParser]
    serializer_class = s.DatasetImportSerializer

    @extend_schema(
        summary=gettext_lazy("Upload a filled data set workbook"),
        description=gettext_lazy(
            "Multipart, field “file”: the data set's template filled in. The import runs in the background; poll "
            "the import for its status and its errors by sheet, row and column."
        ),
        parameters=[
            _application_parameter(),
            OpenApiParameter(
                "code", OpenApiTypes.STR, OpenApiParameter.PATH, description=gettext_lazy("data set code")
            ),
        ],
        request={
            "multipart/form-data": inline_serializer(
                "DatasetUpload", {"file": serializers.FileField(label=gettext_lazy("Workbook (.xlsx)"))}
            )
        },
        responses={202: s.DatasetImportSerializer},
    )
    def post(self, request, application_pk, code):
        application = self.get_application()
        _dataset_of(application, code)
        limit = EvidenceUploadLimitHandler(request._request, max_bytes=max_upload_bytes())
        request._request.upload_handlers.insert(0, limit)
        files = request.FILES
        refused = limit.refusal().message if limit.too_large else None
        form = EvidenceUploadForm(data={}, files={} if refused else files, requirement_pk=code, refusal=refused)
        if not form.is_valid():
            return form_refusal(form)
        dataset_import = start_import(application, code, form.cleaned_data["file"], by=request.user)
        dataset_import.refresh_from_db()
        return Response(s.DatasetImportSerializer(dataset_import).data, status=status.HTTP_202_ACCEPTED)


def _dataset_of(application, code):
    """The data set `code` if the application's standard asks for it; 404 otherwise, as the upload."""
    if not any(dataset.code == code for dataset in datasets_of(application)):
        raise Http404(_("No such data set."))
    return DATASETS[code]


def _columns_text():
    return "\n".join(
        f"- {dataset.code}（{dataset.title}）："
        + "、".join(f"{column.key}（{column.header}）" for column in dataset.columns)
        for dataset in DATASETS.values()
    )


def _rows_examples():
    return [
        OpenApiExample(
            dataset.code,
            summary=dataset.title,
            value={
                "rows": [{column.key: value for column, value in zip(dataset.columns, dataset.example, strict=True)}]
            },
            request_only=True,
        )
        for dataset in DATASETS.values()
    ]


class DatasetRowsView(ApplicationScoped, GenericAPIView):
    """A data set's rows as JSON instead of a workbook: the same import, the same rules and messages."""

    parser_classes = [JSONParser]
    serializer_class = s.DatasetImportSerializer

    @extend_schema(
        summary=gettext_lazy("Import a data set from rows sent as JSON"),
        description=format_lazy(
            "{}\n\n{}",
            gettext_lazy(
                "The body holds “rows”: one object per data row, keyed by the data set's column keys, each value "
                "what the template's cell would hold (text, a number, 是/否, a date such as 2025-09-01, school "
                "names as in the template). The rows are imported exactly as the template filled in with them: "
                "the same checks and messages, all or nothing, the rows kept as the data set's workbook among the "
                "evidence; a new import replaces the previous one. The import runs in the background; poll it. "
                "Its errors name the row as in that workbook (row 2 is the first of “rows”), the column by letter, "
                "header and key. Larger data sets: upload the workbook. The column keys of each data set:"
            ),
            _columns_text(),
        ),
        parameters=[
            _application_parameter(),
            OpenApiParameter(
                "code", OpenApiTypes.STR, OpenApiParameter.PATH, description=gettext_lazy("data set code")
            ),
        ],
        request=s.DatasetRowsSerializer,
        examples=_rows_examples(),
        responses={202: s.DatasetImportSerializer},
    )
    def post(self, request, application_pk, code):
        application = self.get_application()
        dataset = _dataset_of(application, code)
        # Who may import, and whether the data set takes uploads now, before the body is judged: as the upload.
        check_may_import(application, code, by=request.user)
        data = s.DatasetRowsSerializer(data=request.data, context={"dataset": dataset})
        data.is_valid(raise_exception=True)
        dataset_import = start_rows_import(application, code, data.validated_data["rows"], by=request.user)
        dataset_import.refresh_from_db()
        return Response(s.DatasetImportSerializer(dataset_import).data, status=status.HTTP_202_ACCEPTED)


class DatasetTemplateView(ApplicationScoped, GenericAPIView):
    serializer_class = None

    @extend_schema(
        summary=gettext_lazy("Download a data set's Excel template for the application's cluster"),
        parameters=[
            _application_parameter(),
            OpenApiParameter(
                "code", OpenApiTypes.STR, OpenApiParameter.PATH, description=gettext_lazy("data set code")
            ),
        ],
        responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY},
    )
    def get(self, request, application_pk, code):
        return dataset_pages.dataset_template(request._request, pk=int(application_pk), code=code)


# ----------------------------------------------------------------------------------------------- computed indicators


class ComputedView(ApplicationScoped, GenericAPIView):
    serializer_class = s.ComputedIndicatorSerializer
    filter_backends = []

    @extend_schema(
        summary=gettext_lazy("Computed indicators with the data rows behind each figure"),
        parameters=[_application_parameter()],
        responses=s.ComputedIndicatorSerializer(many=True),
    )
    def get(self, request, application_pk):
        results = list(computed.compute_indicators(self.get_application()).values())
        page = self.paginate_queryset(results)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# ----------------------------------------------------------------------------------------------- tasks


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("Your tasks: assigned to you, or in your queue to take")),
    retrieve=extend_schema(summary=gettext_lazy("One of your tasks")),
)
class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.TaskSerializer
    filterset_class = filters.TaskFilter
    ordering_fields = ["id", "created"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return engine.task_queryset().none()
        return engine.tasks_of(self.request.user).select_related("process").order_by("created", "id")

    def _task_in_scope(self, pk):
        """Any task of an application in the user's scope: the page decides whether they may act on it."""
        visible = Application.objects.visible_to(self.request.user).values("pk")
        return get_object_or_404(
            engine.task_queryset().select_related("process"), pk=pk, process__artifact_object_id__in=visible
        )

    def _finish(self, outcome, task):
        application = Application.objects.get(pk=task.process.artifact_object_id)
        return _done(outcome, application, task=task)

    @extend_schema(
        summary=gettext_lazy("Take a task from your queue"), request=None, responses={200: s.TaskResultSerializer}
    )
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        task = self._task_in_scope(pk)
        return self._finish(engine.claim(request, task), task)

    @extend_schema(
        summary=gettext_lazy("Complete a task with the same fields as its page"),
        description=gettext_lazy(
            "The body holds the task page's form fields. Stage submission: nothing. Formal review: decision "
            "(pass/return), comment, indicators, deadline. Assignment: evaluators (a list), panel_lead. Scoring: "
            "action (save/submit/recuse), value_<indicator id>, comment_<indicator id>, override_reason_<indicator "
            "id>, reason. Reconciliation: action=reconcile with result, value, reason; or action=confirm. "
            "Approval: decision (approve/send_back), comment. Objections: action=resolve with objection, outcome, "
            "resolution; or action=finish. Correction: response."
        ),
        request=OpenApiTypes.OBJECT,
        responses={200: s.TaskResultSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def complete(self, request, pk=None):
        task = self._task_in_scope(pk)
        return self._finish(engine.complete(request, task, request.data), task)


# ----------------------------------------------------------------------------------------------- certificates


class CertificateVerifyView(GenericAPIView):
    """Public: anyone holding a certificate's serial and check code can confirm it."""

    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = s.CertificateSerializer
    filter_backends = []

    @extend_schema(
        summary=gettext_lazy("Verify a certificate"),
        description=gettext_lazy(
            "Public. Give the serial number and the check code printed on the certificate. Unknown serial or a "
            "check code that does not match: 404."
        ),
        parameters=[
            OpenApiParameter("serial", OpenApiTypes.STR, required=True, description=gettext_lazy("serial number")),
            OpenApiParameter("check_code", OpenApiTypes.STR, required=True, description=gettext_lazy("check code")),
        ],
    )
    def get(self, request):
        serial = request.query_params.get("serial", "")
        check_code = request.query_params.get("check_code", "").strip().lower()
        certificate = Certificate.objects.select_related("cluster", "standard").filter(serial=serial).first()
        if certificate is None or not check_code or check_code != certificate.check_code:
            raise Http404(_("No certificate with this serial number and check code."))
        authentic = certificate_check_code(certificate) == certificate.check_code
        valid = authentic and certificate_state(certificate) == "valid"
        return Response(s.CertificateSerializer(certificate, context={"valid": valid}).data)
