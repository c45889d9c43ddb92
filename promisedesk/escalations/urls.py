from __future__ import annotations

from django.urls import URLPattern, path

from . import views

app_name = "escalations"

urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
    path("chains/", views.chain_new, name="chain_new"),
    path("chains/<str:key>/", views.chain, name="chain"),
    path("chains/<str:key>/delete/", views.chain_delete, name="chain_delete"),
]
