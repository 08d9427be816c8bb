from django.urls import path

from . import export_views, views

app_name = "blocklist"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("invalid/", views.invalid_list, name="invalid"),
    path("invalid/mine/", views.my_triggers, name="my_triggers"),
    path("invalid/mine/export/", export_views.my_triggers_export, name="my_triggers_export"),
    path("invalid/remove/", views.invalid_remove, name="invalid_remove"),
    path("invalid/whitelist/", views.invalid_whitelist, name="invalid_whitelist"),
    path("invalid/unwhitelist/", views.invalid_unwhitelist, name="invalid_unwhitelist"),
    path("rejects/", views.rejects, name="rejects"),
    path("rejects/export/", export_views.rejects_export, name="rejects_export"),
    path("rejects/remove/", views.rejects_remove, name="rejects_remove"),
    path("custom/", views.custom, name="custom"),
    path("custom/export/", export_views.custom_export, name="custom_export"),
    path("custom/add/", views.custom_add, name="custom_add"),
    path("custom/upload/", views.custom_upload, name="custom_upload"),
    path("custom/delete/", views.custom_delete, name="custom_delete"),
    path("custom/auto-block/", views.auto_block, name="auto_block"),
    path("custom/<int:pk>/", views.custom_edit, name="custom_edit"),
    path("whitelist/export/", export_views.whitelist_export, name="whitelist_export"),
    path("whitelist/import/", export_views.whitelist_import, name="whitelist_import"),
    path("history/", views.history, name="history"),
]
