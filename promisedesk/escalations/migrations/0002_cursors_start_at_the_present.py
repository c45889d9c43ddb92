"""Escalation starts with what is recorded after it is installed: the cursors begin past the history."""

from django.db import migrations
from django.db.models import Max


def start_cursors(apps, schema_editor):
    cursor = apps.get_model("escalations", "EscalationCursor")
    alerts = apps.get_model("commitments", "CommitmentAlert")
    breaches = apps.get_model("breaches", "Breach")
    last = {
        "at_risk_alerts": alerts.objects.aggregate(last=Max("id"))["last"] or 0,
        "clock_breaches": breaches.objects.aggregate(last=Max("id"))["last"] or 0,
    }
    for stream, last_id in last.items():
        cursor.objects.update_or_create(stream=stream, defaults={"last_id": last_id})


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0001_initial"),
        ("commitments", "0002_remove_commitmentalert_commitment_alert_once_and_more"),
        ("breaches", "0002_approvallimit_compensation_rootcause_and_more"),
    ]

    operations = [migrations.RunPython(start_cursors, migrations.RunPython.noop)]
