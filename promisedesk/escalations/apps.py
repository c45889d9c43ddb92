from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "promisedesk.escalations"
    label = "escalations"

    def ready(self) -> None:
        # The outbox asks before sending an escalation email held for business hours whether
        # its promise is still open; registered here so notifications never imports escalations.
        from promisedesk.notifications.delivery import register_check

        from .messages import TEMPLATE
        from .stillwanted import superseded

        register_check(TEMPLATE, superseded)
