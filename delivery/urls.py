from django.urls import path

from . import content, views

app_name = "delivery"

urlpatterns = [
    path("", views.email_status, name="email_status"),
    path("send-test/", views.send_test, name="send_test"),
    path("tracking/", views.tracking_settings, name="tracking_settings"),
    # A prefix, so a message id can never shadow another page under /messages/.
    path("id/<path:message_id>/", views.message_detail, name="message_detail"),
    path("body/<path:message_id>/", content.message_body, name="message_body"),
]
