from django.urls import path

from . import views

app_name = "blocklist"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("invalid/", views.invalid_list, name="invalid"),
    path("invalid/mine/", views.my_triggers, name="my_triggers"),
    path("invalid/remove/", views.invalid_remove, name="invalid_remove"),
    path("invalid/whitelist/", views.invalid_whitelist, name="invalid_whitelist"),
    path("invalid/unwhitelist/", views.invalid_unwhitelist, name="invalid_unwhitelist"),
    path("rejects/", views.rejects, name="rejects"),
    path("rejects/remove/", views.rejects_remove, name="rejects_remove"),
    path("custom/", views.custom, name="custom"),
    path("custom/add/", views.custom_add, name="custom_add"),
    path("custom/upload/", views.custom_upload, name="custom_upload"),
    path("custom/delete/", views.custom_delete, name="custom_delete"),
    path("custom/auto-block/", views.auto_block, name="auto_block"),
    path("custom/<int:pk>/", views.custom_edit, name="custom_edit"),
    path("history/", views.history, name="history"),
]
