from django.apps import AppConfig


class SesConsoleConfig(AppConfig):
    name = "sesconsole"
    verbose_name = "Accounts"
