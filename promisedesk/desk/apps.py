from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "promisedesk.desk"
    label = "desk"
