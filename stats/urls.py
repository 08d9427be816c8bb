from django.urls import path

from . import views

app_name = "stats"

urlpatterns = [
    path("queue/", views.queue_status, name="queue"),
    path("open-click/", views.open_click, name="open_click"),
    path("spam-reports/", views.spam_reports, name="spam_reports"),
    path("bounced/", views.bounced, name="bounced"),
    path("unsubscriptions/", views.unsubscriptions, name="unsubscriptions"),
    path("domains/", views.domains, name="domains"),
]
