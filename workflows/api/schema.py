"""The OpenAPI schema: every field described by its (translated) label, every operation with its refusals."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from .serializers import ErrorSerializer

# Every operation may be refused: bad input, not signed in, not allowed, not found (or out of scope), a state
# the domain refuses, too many requests. All answer the same JSON body.
ERROR_STATUSES = ("400", "401", "403", "404", "409", "429")


def _tag_labels():
    from certification.models import Application, Certificate, Cluster, Region, School, Standard

    return {
        "regions": Region._meta.verbose_name_plural,
        "schools": School._meta.verbose_name_plural,
        "clusters": Cluster._meta.verbose_name_plural,
        "standards": Standard._meta.verbose_name_plural,
        "applications": Application._meta.verbose_name_plural,
        "tasks": gettext_lazy("My tasks"),
        "certificates": Certificate._meta.verbose_name_plural,
    }


class ApiSchema(AutoSchema):
    def get_tags(self):
        """Group the operations under the Chinese name of their resource, not the English path segment."""
        (segment,) = super().get_tags()[:1] or ("",)
        return [str(_tag_labels().get(segment, segment))]

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if "description" not in meta and isinstance(field, serializers.Field):
            if field.field_name == "id":
                meta["description"] = _("Identifier")
            elif field.label:
                meta["description"] = str(field.label)
        return meta

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        for status in ERROR_STATUSES:
            if status not in bodies:
                bodies[status] = self._get_response_for_code(ErrorSerializer, status, direction=direction)
                bodies[status]["description"] = _("Refused; the body says why.")
        return bodies


PAGE_FIELDS = {
    "count": gettext_lazy("Rows in all pages"),
    "next": gettext_lazy("Address of the next page"),
    "previous": gettext_lazy("Address of the previous page"),
    "results": gettext_lazy("The rows of this page"),
}


def describe_generated_parts(result, generator, request, public):
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: describe what drf-spectacular generates itself, in Chinese:
    the page envelope of every list and the id in the path (its own text is English only)."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.startswith("Paginated"):
            for field, description in PAGE_FIELDS.items():
                if field in component.get("properties", {}):
                    component["properties"][field]["description"] = str(description)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "id":
                    parameter["description"] = str(gettext_lazy("Identifier"))
    return result


# OpenAPI links: how a response leads to the next call (a client follows them; schemathesis's state machine does).
# (source operationId, status) -> [(link name, target operationId, parameters, description)]
_FIRST = "$response.body#/results/0/id"
_APPLICATION = "$request.path.application_pk"


def _application_links(expression, *, retrieve=True):
    links = [
        ("requirements", "applications_requirements_list", {"application_pk": expression}, _link_requirements),
        ("evidence", "applications_evidence_list", {"application_pk": expression}, _link_evidence),
        ("imports", "applications_dataset_imports_list", {"application_pk": expression}, _link_imports),
        ("computed", "applications_computed_list", {"application_pk": expression}, _link_computed),
        ("tasks", "tasks_list", {"query.application": expression}, _link_tasks),
    ]
    if retrieve:
        links.insert(0, ("application", "applications_retrieve", {"id": expression}, _link_application))
    return links


def _evidence_links(expression):
    parameters = {"application_pk": _APPLICATION, "id": expression}
    return [
        ("file", "applications_evidence_retrieve", parameters, _link_file),
        ("download", "applications_evidence_download_retrieve", parameters, _link_download),
        ("withdraw", "applications_evidence_withdraw_create", parameters, _link_withdraw),
    ]


def _task_links(expression, *, retrieve=True):
    links = [
        ("claim", "tasks_claim_create", {"id": expression}, _link_claim),
        ("complete", "tasks_complete_create", {"id": expression}, _link_complete),
    ]
    if retrieve:
        links.insert(0, ("task", "tasks_retrieve", {"id": expression}, _link_task))
    return links


_link_application = gettext_lazy("The application")
_link_requirements = gettext_lazy("Its evidence requirements")
_link_evidence = gettext_lazy("Its evidence files")
_link_imports = gettext_lazy("Its data set imports")
_link_computed = gettext_lazy("Its computed indicators")
_link_tasks = gettext_lazy("Its tasks")
_link_upload = gettext_lazy("Upload a file to the first requirement")
_link_file = gettext_lazy("The evidence file")
_link_download = gettext_lazy("Download the evidence file")
_link_withdraw = gettext_lazy("Withdraw the evidence file")
_link_import = gettext_lazy("Poll the import")
_link_rows = gettext_lazy("Import the data set again from rows")
_link_task = gettext_lazy("The task")
_link_claim = gettext_lazy("Take the task")
_link_complete = gettext_lazy("Complete the task")
_link_detail = gettext_lazy("The first row in detail")


def _links():
    links = {
        ("applications_create", "201"): _application_links("$response.body#/id"),
        ("applications_list", "200"): _application_links(_FIRST),
        ("applications_retrieve", "200"): _application_links("$response.body#/id", retrieve=False),
        ("applications_requirements_list", "200"): [
            (
                "upload",
                "applications_requirements_upload_create",
                {"application_pk": _APPLICATION, "requirement_pk": _FIRST},
                _link_upload,
            )
        ],
        ("applications_requirements_upload_create", "201"): _evidence_links("$response.body#/id"),
        ("applications_evidence_list", "200"): _evidence_links(_FIRST),
        ("applications_evidence_retrieve", "200"): _evidence_links("$request.path.id")[1:],
        ("applications_dataset_imports_list", "200"): [
            (
                "import",
                "applications_dataset_imports_retrieve",
                {"application_pk": _APPLICATION, "id": _FIRST},
                _link_import,
            ),
            (
                "rows",
                "applications_datasets_rows_create",
                {"application_pk": _APPLICATION, "code": "$response.body#/results/0/dataset"},
                _link_rows,
            ),
        ],
        ("tasks_list", "200"): _task_links(_FIRST),
        ("tasks_retrieve", "200"): _task_links("$request.path.id", retrieve=False),
        ("tasks_claim_create", "200"): [*_task_links("$request.path.id")[::2]],
        ("tasks_complete_create", "200"): [
            ("application", "applications_retrieve", {"id": "$response.body#/application"}, _link_application)
        ],
    }
    for source in ("applications_datasets_rows_create", "applications_datasets_upload_create"):
        links[(source, "202")] = [
            (
                "import",
                "applications_dataset_imports_retrieve",
                {"application_pk": _APPLICATION, "id": "$response.body#/id"},
                _link_import,
            )
        ]
    for resource in ("regions", "schools", "clusters", "standards"):
        links[(f"{resource}_list", "200")] = [("detail", f"{resource}_retrieve", {"id": _FIRST}, _link_detail)]
    return links


def add_links(result, generator, request, public):
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: the responses' OpenAPI links (`_links`), to operations that
    are in this schema."""
    operations = {
        operation["operationId"]: operation
        for path in result.get("paths", {}).values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for (source, status), links in _links().items():
        response = operations.get(source, {}).get("responses", {}).get(status)
        if response is None:
            continue
        present = [link for link in links if link[1] in operations]
        if present:
            response["links"] = {
                name: {"operationId": target, "parameters": parameters, "description": str(description)}
                for name, target, parameters, description in present
            }
    return result
