from django.urls import path, register_converter

from . import content, views


class MessageId:
    """Any message id, as ingestion accepts it: `path` stops at a newline, and a page
    linking to such a message failed to render."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MessageId, "message_id")

app_name = "delivery"

urlpatterns = [
    path("", views.email_status, name="email_status"),
    path("send-test/", views.send_test, name="send_test"),
    path("tracking/", views.tracking_settings, name="tracking_settings"),
    # A prefix, so a message id can never shadow another page under /messages/.
    path("id/<message_id:message_id>/", views.message_detail, name="message_detail"),
    path("body/<message_id:message_id>/", content.message_body, name="message_body"),
]
