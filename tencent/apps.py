from django.apps import AppConfig


class TencentConfig(AppConfig):
    name = "tencent"
    verbose_name = "Tencent Cloud API"
