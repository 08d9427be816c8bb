"""Console pages: one include per app, plus the account pages."""

from django.urls import include, path

from tencent import pages as tencent_pages

from . import views

urlpatterns = [
    path("account/switch/", views.switch, name="switch_account"),
    path("account/api-keys/", views.api_keys, name="api_keys"),
    path("account/api-keys/<int:pk>/revoke/", views.revoke_api_key, name="revoke_api_key"),
    path("account/tc3-keys/", tencent_pages.tc3_keys, name="tc3_keys"),
    path("account/tc3-keys/<int:pk>/revoke/", tencent_pages.revoke_tc3_key, name="revoke_tc3_key"),
    path("", include("stats.urls")),
    path("messages/", include("delivery.urls")),
    path("blocklist/", include("blocklist.urls")),
    path("webhooks/", include("notifications.urls")),
]
