from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "promisedesk.cases"
    label = "cases"
