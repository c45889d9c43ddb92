"""The customer's case page: /c/<token>/ and the forms on it."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

app_name = "portal"

urlpatterns: list[URLPattern] = [
    path("<str:token>/", views.case_page, name="case"),
    path("<str:token>/reply/", views.reply, name="reply"),
    path("<str:token>/information/", views.information, name="information"),
    path("<str:token>/claim/", views.claim, name="claim"),
    path("<str:token>/complain/", views.complain, name="complain"),
    path("<str:token>/files/<int:attachment_id>/", views.attachment, name="attachment"),
]
