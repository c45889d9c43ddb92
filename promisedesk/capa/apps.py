from django.apps import AppConfig


class CapaConfig(AppConfig):
    name = "promisedesk.capa"
    label = "capa"
    verbose_name = "CAPA"
