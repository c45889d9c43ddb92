from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "promisedesk.notifications"
    label = "notifications"
