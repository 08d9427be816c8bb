import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesconsole.settings")

app = Celery("sesconsole")
# Every CELERY_* setting in sesconsole/settings.py configures the app.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
