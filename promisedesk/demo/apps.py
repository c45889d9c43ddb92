from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "promisedesk.demo"
    label = "demo"
