from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "promisedesk.complaints"
    label = "complaints"
