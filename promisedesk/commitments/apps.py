from django.apps import AppConfig


class CommitmentsConfig(AppConfig):
    name = "promisedesk.commitments"
    label = "commitments"
