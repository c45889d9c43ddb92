from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "promisedesk.escalations"
    label = "escalations"
