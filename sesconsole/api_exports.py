"""CSV exports of API list endpoints: `…/export/` and `?format=csv`."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer

from .lib.csv_export import csv_response, queryset_csv
from .lib.csv_zones import with_zone
from .lib.timezones import zone_of
from .tenancy import current_account


class CSVRenderer(BaseRenderer):
    """Lets `?format=csv` select the streamed CSV export of a list."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data  # list views answer CSV with a StreamingHttpResponse of their own


class ExportMixin:
    """`GET …/export/` (and `?format=csv` on the list): the filtered rows as streamed CSV.

    Set `csv_columns` (a list of `sesconsole.lib.csv_export.Column`) and `csv_name`.
    """

    csv_columns: list = []
    csv_name = "export.csv"

    @property
    def exporting(self) -> bool:
        """This request answers CSV: `…/export/`, or the list with `?format=csv`."""
        renderer = getattr(self.request, "accepted_renderer", None)
        return self.action == "export" or getattr(renderer, "format", None) == "csv"

    def get_renderers(self):
        # The list's CSV is its export; other actions (a detail, a POST) have no CSV form. A
        # method the view does not route (no action) keeps it, so that it answers 405, not a
        # 404 for the format.
        renderers = super().get_renderers()
        listing = self.action in ("list", None)
        if listing and not any(isinstance(r, CSVRenderer) for r in renderers):
            renderers.append(CSVRenderer())
        return renderers

    def list(self, request, *args, **kwargs):
        if getattr(request.accepted_renderer, "format", None) == "csv":
            return self.export(request)
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"], renderer_classes=[CSVRenderer, JSONRenderer])
    def export(self, request, *args, **kwargs):
        """Every matching row as CSV (streamed; epoch-ms and ISO-8601 time columns)."""
        queryset = self.filter_queryset(self.get_queryset())
        account = current_account(request)
        zone = zone_of(account) if account is not None else ZoneInfo("UTC")
        columns = with_zone(self.csv_columns, zone)
        return csv_response(self.csv_name, queryset_csv(queryset, columns))
