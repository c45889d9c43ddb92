from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "promisedesk.accounts"
    label = "accounts"
