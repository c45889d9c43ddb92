from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "promisedesk.intake"
    label = "intake"
