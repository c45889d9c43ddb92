from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    name = "promisedesk.recovery"
    label = "recovery"
