from django.apps import AppConfig


class SesConsoleConfig(AppConfig):
    name = "sesconsole"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import openapi  # noqa: F401  (registers the API-key scheme with drf-spectacular)
