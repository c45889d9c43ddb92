"""Business calendars: the working time on which promise clocks run."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from promisedesk.lib.businesstime import CalendarRules, parse_weekly_hours


class BusinessCalendar(models.Model):
    """Working windows per weekday in one time zone, with holidays and make-up workdays.

    `revision` grows with every change so compiled copies held in memory by any
    process can tell they are stale.
    """

    name = models.CharField(max_length=200, unique=True)
    timezone = models.CharField(max_length=64)
    weekly_hours = models.JSONField(default=dict)
    holidays = models.JSONField(default=list)
    extra_workdays = models.JSONField(default=list)
    region = models.CharField(max_length=10, null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def rules(self) -> CalendarRules:
        return CalendarRules(
            timezone=self.timezone,
            weekly=parse_weekly_hours(self.weekly_hours),
            holidays=frozenset(date.fromisoformat(d) for d in self.holidays),
            extra_workdays=frozenset(date.fromisoformat(d) for d in self.extra_workdays),
        )


@receiver(post_save, sender=BusinessCalendar, dispatch_uid="calendars.forget_compiled_on_save")
@receiver(post_delete, sender=BusinessCalendar, dispatch_uid="calendars.forget_compiled_on_delete")
def forget_compiled(sender: type[BusinessCalendar], instance: BusinessCalendar, **kwargs: object) -> None:
    """A saved or deleted calendar's compiled windows are stale in this process."""
    from .compiled import forget

    forget(instance.pk)
