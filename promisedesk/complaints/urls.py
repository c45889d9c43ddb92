"""The desk's complaint pages, under /desk/complaints/."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

app_name = "complaints"

urlpatterns: list[URLPattern] = [
    path("", views.queue, name="queue"),
    path("new/", views.new, name="new"),
    path("<int:complaint_id>/", views.complaint, name="complaint"),
    path("<int:complaint_id>/steps/<str:step>/", views.take_step, name="step"),
    path("<int:complaint_id>/handover/", views.handover, name="handover"),
    path("<int:complaint_id>/close/", views.close, name="close"),
    path("<int:complaint_id>/compensation/<str:what>/", views.compensation, name="compensation"),
]
