from django.urls import path

from . import views

app_name = "blocklist"

urlpatterns = [
    path("", views.overview, name="overview"),
]
