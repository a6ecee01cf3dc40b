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
