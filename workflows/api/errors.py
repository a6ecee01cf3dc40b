"""Every refusal answers JSON ``{code, message}``; validation errors add ``fields`` naming each field.

Domain errors carry the Chinese message the pages show and the status the pages answer with (400/403/409);
out-of-scope objects are 404 with no hint that they exist, as on the pages.
"""

import re

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from certification.errors import DomainError

# The code of a domain error is its class name in snake case (NotEligible → not_eligible); the base is "conflict".
DEFAULT_DOMAIN_CODE = "conflict"
CODE_BY_STATUS = {400: "invalid_input", 403: "not_allowed", 404: "not_found", 409: "conflict"}


def domain_code(error):
    if type(error) is DomainError:
        return DEFAULT_DOMAIN_CODE
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


def error_body(code, message, fields=None):
    body = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    return body


def _flatten(detail):
    """DRF's nested error detail as {field: [messages]}; nested fields are joined with dots."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and not all(isinstance(item, str) for item in value):
            for index, inner in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), inner)
        else:
            messages = value if isinstance(value, list) else [value]
            flat.setdefault(prefix or "non_field_errors", []).extend(str(message) for message in messages)

    walk("", detail)
    return flat


def handle_exception(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]."""
    if isinstance(exc, DomainError):
        return Response(error_body(domain_code(exc), exc.message), status=exc.status)
    if isinstance(exc, Http404):
        message = str(exc) if exc.args else _("Not found.")
        return Response(error_body("not_found", message), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        message = str(exc) if exc.args and str(exc) else _("You may not do this.")
        return Response(error_body("permission_denied", message), status=status.HTTP_403_FORBIDDEN)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.values()))[0] if fields else _("The input is not valid.")
        response.data = error_body("invalid", first, fields)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = detail.code if hasattr(detail, "code") else exc.default_code
        response.data = error_body(code, detail if isinstance(detail, str) else exc.default_detail)
    return response
