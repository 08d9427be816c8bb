"""The API's OpenAPI schema class (`DEFAULT_SCHEMA_CLASS`).

Every operation documents the 4xx it can answer, all with the one error shape
`{"code", "message", "details"}` (see `api_support`). Which statuses apply follows from the
view, so a new endpoint is documented truthfully without listing them by hand: 400 when it
takes parameters or a body, 401/403 always (every API route needs an account), 404 on routes
with a path parameter, a page or a `format`, 413 when it takes a body, 429 when it is
throttled. Statuses particular to one endpoint (409) are declared with
`extend_schema(responses={409: error_response(409)})`.

Also: bodies are documented as JSON unless a view declares another type; text fields state
that they refuse NUL and, when required, blank values; optional filters take an empty value;
`…/export/` takes its list's filters; a serializer's `request_schema` adds what its fields
cannot state (e.g. "text or html").
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `invalid`.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    details = serializers.DictField(
        help_text="Per-field problems for `invalid`, else extra facts (often empty)."
    )

    class Meta:
        ref_name = "Error"


ERROR_MEDIA_TYPES = ("application/json",)

DESCRIPTIONS = {
    400: "Invalid parameters or body.",
    401: "No credentials, or an unknown or revoked API key.",
    403: "Signed in without access to an account.",
    404: "No such object for this account.",
    409: "Conflicts with an earlier request.",
    413: "The request body is too large.",
    429: "Too many requests; retry after `Retry-After` seconds.",
}


def error_response(status: int) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS.get(status, ""))


# Query parameters read without a Django form field, which take any text (unknown sort keys
# are ignored by design).
_ANY_TEXT = {"ordering", "sort", "format"}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self.error_statuses():
            key = str(status)
            if key not in responses:
                responses[key] = self._get_response_for_code(
                    error_response(status), key, ERROR_MEDIA_TYPES, direction
                )
        return dict(sorted(responses.items()))

    def error_statuses(self) -> list[int]:
        has_body = self.method in ("POST", "PUT", "PATCH")
        has_path_params = "{" in self.path
        query = self._query_parameters()
        statuses = [401, 403]
        if has_body or query or has_path_params:
            statuses.append(400)
        # Not found: the object of a path, a page past the end, an unknown `format`.
        if has_path_params or {"page", "format"} & query:
            statuses.append(404)
        if has_body:
            statuses.append(413)
        if self.view.get_throttles():
            statuses.append(429)
        return statuses

    def _get_parameters(self):
        parameters = super()._get_parameters()
        # Filters, pages and `format` take an empty value as "not given" (the console's
        # forms send them so).
        lenient = {"format"} | {
            p["name"] for p in self._get_filter_parameters() + self._get_pagination_parameters()
        }
        for parameter in parameters:
            if (
                parameter.get("in") == "query"
                and parameter["name"] in lenient
                and not parameter.get("required")
                and parameter.get("schema", {}).get("type") != "array"
            ):
                parameter["allowEmptyValue"] = True
            schema = parameter.get("schema", {})
            if (
                parameter.get("in") == "query"
                and parameter["name"] not in _ANY_TEXT
                and schema.get("type") == "string"
                and "enum" not in schema
                and "format" not in schema
            ):
                # Django's form fields refuse NUL characters in any text value.
                schema.setdefault("pattern", r"^[^\x00]*$")
        return parameters

    def get_filter_backends(self):
        # `…/export/` takes the list's filters.
        if getattr(self.view, "action", None) == "export":
            return getattr(self.view, "filter_backends", [])
        return super().get_filter_backends()

    def _map_basic_serializer(self, serializer, direction):
        # A serializer states what its fields cannot in `request_schema`: extra keywords per
        # property, and rules over several fields (`anyOf`).
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request":
            for name, extra in getattr(serializer, "request_schema", {}).items():
                if name == "anyOf":
                    schema["anyOf"] = extra
                else:
                    schema["properties"][name].update(extra)
        return schema

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body:
            body["required"] = True
        return body

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if direction == "request" and isinstance(field, serializers.FileField):
            return {"type": "string", "format": "binary"}
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and not field.allow_blank
            and schema.get("type") == "string"
        ):
            schema.setdefault("minLength", 1)
            # Some character other than blank or NUL (DRF refuses NUL characters).
            if field.trim_whitespace:
                schema.setdefault("pattern", r"^[^\x00]*[^\s\x00][^\x00]*$")
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
        ):
            schema.setdefault("pattern", r"^[^\x00]*$")
        return schema

    def _query_parameters(self) -> set[str]:
        return {p["name"] for p in self._get_parameters() if p.get("in") == "query"}

    def map_parsers(self):
        # Bodies are documented as JSON; the form encodings the browsable API also
        # accepts are not part of the contract. Views taking other types declare them.
        media_types = super().map_parsers()
        return ["application/json"] if "application/json" in media_types else media_types
