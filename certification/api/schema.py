"""The OpenAPI schema: every field described by its (translated) label, every operation with its refusals."""

from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from .serializers import ErrorSerializer

# Every operation may be refused: bad input, not signed in, not allowed, not found (or out of scope), a state
# the domain refuses, too many requests. All answer the same JSON body.
ERROR_STATUSES = ("400", "401", "403", "404", "409", "429")


class ApiSchema(AutoSchema):
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
