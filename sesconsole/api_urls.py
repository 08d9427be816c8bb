"""Every API route, under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from delivery.api import EmailViewSet, EventIngestView, EventListViewSet, MessageViewSet
from stats.api import StatisticsViewSet

app_name = "api"

router = DefaultRouter()
router.register("emails", EmailViewSet, basename="email")
router.register("stats", StatisticsViewSet, basename="stats")
router.register("messages", MessageViewSet, basename="message")
router.register("event-lists", EventListViewSet, basename="event-list")

urlpatterns = [
    path("events/", EventIngestView.as_view(), name="events"),
    *router.urls,
]
