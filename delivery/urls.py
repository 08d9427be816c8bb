from django.urls import path

from . import views

app_name = "delivery"

urlpatterns = [
    path("", views.email_status, name="email_status"),
    path("<path:message_id>/", views.message_detail, name="message_detail"),
]
