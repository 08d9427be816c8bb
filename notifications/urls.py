from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.endpoints, name="endpoints"),
    path("<int:pk>/", views.endpoint_detail, name="endpoint"),
    path("<int:pk>/test/", views.endpoint_test, name="test"),
    path("<int:pk>/rotate/", views.endpoint_rotate, name="rotate"),
    path("<int:pk>/toggle/", views.endpoint_toggle, name="toggle"),
    path("<int:pk>/delete/", views.endpoint_delete, name="delete"),
    path("<int:pk>/redeliver/", views.endpoint_redeliver, name="redeliver"),
]
