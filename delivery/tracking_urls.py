"""Tracking links in sent mail: short URLs under /t/."""

from django.urls import path

from . import sending_views

app_name = "tracking"

urlpatterns = [
    path("o/<str:token>.gif", sending_views.track_open, name="open"),
    path("c/<str:token>", sending_views.track_click, name="click"),
    path("u/<str:token>", sending_views.unsubscribe, name="unsubscribe"),
]
