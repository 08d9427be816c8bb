"""Every API route, under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from delivery.api import EventIngestView

app_name = "api"

router = DefaultRouter()

urlpatterns = [
    path("events/", EventIngestView.as_view(), name="events"),
    *router.urls,
]
