from django.apps import AppConfig


class BlocklistConfig(AppConfig):
    name = "blocklist"
