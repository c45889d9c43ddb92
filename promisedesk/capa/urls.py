from __future__ import annotations

from django.urls import URLPattern, path

from . import views

app_name = "capa"

urlpatterns: list[URLPattern] = [
    path("", views.board, name="board"),
    path("new/", views.new, name="new"),
    path("<int:action_id>/", views.action_page, name="action"),
    path("<int:action_id>/edit/", views.edit, name="edit"),
    path("<int:action_id>/<str:to>/", views.move, name="move"),
    path("root-causes/", views.root_causes, name="root_causes"),
    path("root-causes/add/", views.add_root_cause, name="add_root_cause"),
    path("root-causes/<slug:code>/active/", views.set_root_cause_active, name="root_cause_active"),
    path("breaches/<int:breach_id>/root-cause/", views.categorise, name="categorise"),
]
