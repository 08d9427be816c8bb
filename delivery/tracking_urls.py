"""Tracking links in sent mail: short URLs under /t/."""

from django.urls import path

from . import tracking_views

app_name = "tracking"

urlpatterns = [
    path("o/<str:token>.gif", tracking_views.track_open, name="open"),
    path("c/<str:token>", tracking_views.track_click, name="click"),
    path("u/<str:token>", tracking_views.unsubscribe, name="unsubscribe"),
]
