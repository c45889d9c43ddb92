from __future__ import annotations

from django.urls import URLPattern, path

from . import views

app_name = "intake"

urlpatterns: list[URLPattern] = [
    path("request/", views.request_form, name="request"),
    path("hooks/<str:source_code>/", views.hook, name="hook"),
    path("desk/intake/quarantine/", views.quarantine_list, name="quarantine"),
    path("desk/intake/quarantine/<int:message_id>/", views.quarantine_detail, name="quarantine_detail"),
    path("desk/intake/quarantine/<int:message_id>/raw/", views.quarantine_raw, name="quarantine_raw"),
    path("desk/intake/quarantine/<int:message_id>/release/", views.quarantine_release, name="quarantine_release"),
    path("desk/intake/quarantine/<int:message_id>/discard/", views.quarantine_discard, name="quarantine_discard"),
]
