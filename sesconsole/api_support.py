"""Shared API pieces: the error format and pagination (CSV exports: `api_exports`).

Errors are always `{"code": ..., "message": ..., "details": {...}}` with a stable code.
Services raise `sesconsole.lib.errors.ServiceError`; the handler here maps it, so no view
translates errors itself.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.views import exception_handler as drf_exception_handler

from .lib.errors import ServiceError
from .lib.pagination import CappedPaginator


class ApiError(exceptions.APIException):
    """An error with an explicit stable code, e.g. `ApiError("batch_too_large", "...", 413)`."""

    def __init__(self, code: str, message: str, status_code: int = 400, details=None):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.details = details or {}


class Pagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; past 10,000 rows `count` stops at 10,000
    and `"count_capped": true` is added (a count of everything would cost a full scan)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        paginator = self.page.paginator
        if paginator.capped:
            response.data["count"] = paginator.count
            response.data["count_capped"] = True
        return response

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:
            return self.page_size
        size = int(raw) if raw.isascii() and raw.isdigit() else 0
        if size < 1:
            raise ApiError("invalid_page_size", "'page_size' must be a whole number from 1.")
        return min(size, self.max_page_size)  # larger sizes give the most rows a page holds

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (
                    f"Rows per page, at most {self.max_page_size}: a larger size gives "
                    f"{self.max_page_size}."
                )
        return parameters

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "Present and true when more than 10,000 rows match; `count` is then 10,000.",
        }
        return schema


def _first_code(codes) -> str:
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict):
        for value in codes.values():
            return _first_code(value)
    if isinstance(codes, list) and codes:
        return _first_code(codes[0])
    return "error"


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        exc = ApiError(exc.code, exc.message, exc.status, exc.details)
    elif isinstance(exc, RequestDataTooBig):
        exc = ApiError("payload_too_large", "The request body is too large.", 413)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        body = {"code": exc.error_code, "message": str(exc.detail), "details": exc.details}
    elif isinstance(exc, exceptions.ValidationError):
        body = {
            "code": "invalid",
            "message": "The request has invalid fields.",
            "details": exc.detail
            if isinstance(exc.detail, dict)
            else {"non_field_errors": exc.detail},
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        body = {
            "code": _first_code(exc.get_codes()) if hasattr(exc, "get_codes") else "error",
            "message": str(detail),
            "details": {},
        }
    response.data = body
    request = context.get("request")
    if request is not None and not isinstance(
        getattr(request, "accepted_renderer", None), JSONRenderer | BrowsableAPIRenderer
    ):
        # Errors are JSON even when the request asked for CSV.
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    return response


def json_error(code: str, message: str, status_code: int) -> JsonResponse:
    """The same error shape for plain Django views (404/500 handlers under /api/)."""
    return JsonResponse({"code": code, "message": message, "details": {}}, status=status_code)
