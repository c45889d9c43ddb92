from __future__ import annotations

from django.urls import path

from . import views

app_name = "desk"

urlpatterns = [
    path("", views.queue, name="queue"),
]
