from __future__ import annotations

from django.urls import URLPattern, path

from . import views

app_name = "recovery"

urlpatterns: list[URLPattern] = [
    path("", views.incident_list, name="list"),
    path("new/", views.declare, name="declare"),
    path("<int:incident_id>/", views.incident_page, name="incident"),
    path("<int:incident_id>/live/", views.live, name="live"),
    path("<int:incident_id>/preview/", views.preview, name="preview"),
    path("<int:incident_id>/attach/query/", views.attach_query, name="attach_query"),
    path("<int:incident_id>/attach/csv/", views.attach_csv, name="attach_csv"),
    path("<int:incident_id>/notify/", views.notify, name="notify"),
    path("<int:incident_id>/compensate/", views.compensate, name="compensate"),
    path("<int:incident_id>/force-majeure/", views.force_majeure, name="force_majeure"),
    path("<int:incident_id>/close/", views.close, name="close"),
    path("<int:incident_id>/runs/<int:run_id>/cancel/", views.cancel_run, name="cancel_run"),
]
