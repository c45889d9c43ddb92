from django.apps import AppConfig


class PromisesConfig(AppConfig):
    name = "promisedesk.promises"
    label = "promises"
