from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "promisedesk.calendars"
    label = "calendars"
