from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "promisedesk.portal"
    label = "portal"
