"""Every API route, under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from delivery.api import EmailViewSet, EventIngestView

app_name = "api"

router = DefaultRouter()
router.register("emails", EmailViewSet, basename="email")

urlpatterns = [
    path("events/", EventIngestView.as_view(), name="events"),
    *router.urls,
]
