from django.apps import AppConfig


class BreachesConfig(AppConfig):
    name = "promisedesk.breaches"
    label = "breaches"
