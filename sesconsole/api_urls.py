"""Every API route, under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from blocklist import api as blocklist_api
from delivery.api import (
    EmailViewSet,
    EventIngestView,
    EventListViewSet,
    IntakeView,
    MessageViewSet,
)
from notifications.api import WebhookViewSet
from stats.api import StatisticsViewSet

app_name = "api"

# No `.json`-style suffix routes: the API speaks JSON (CSV through `export/` or
# `?format=csv`), and the suffix routes handed a `format` argument views do not take (a 500).
router = DefaultRouter()
router.include_format_suffixes = False
router.register("emails", EmailViewSet, basename="email")
router.register("blocklist/invalid", blocklist_api.InvalidBlockViewSet, "blocklist-invalid")
router.register("blocklist/rejects", blocklist_api.RejectBlockViewSet, "blocklist-rejects")
router.register("blocklist/custom", blocklist_api.CustomBlockViewSet, "blocklist-custom")
router.register("blocklist/whitelist", blocklist_api.WhitelistViewSet, "blocklist-whitelist")
router.register("blocklist/history", blocklist_api.HistoryViewSet, "blocklist-history")
router.register("stats", StatisticsViewSet, basename="stats")
router.register("messages", MessageViewSet, basename="message")
router.register("event-lists", EventListViewSet, basename="event-list")
router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = [
    path("events/", EventIngestView.as_view(), name="events"),
    path("intake/", IntakeView.as_view(), name="intake"),
    path("blocklist/check/", blocklist_api.CheckView.as_view(), name="blocklist-check"),
    path(
        "blocklist/auto-block/", blocklist_api.AutoBlockView.as_view(), name="blocklist-auto-block"
    ),
    *router.urls,
]
