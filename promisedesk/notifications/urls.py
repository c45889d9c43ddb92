from __future__ import annotations

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.outbox_list, name="outbox"),
    path("failed/", views.dead_letters, name="failed"),
    path("<int:message_id>/", views.message_detail, name="message"),
    path("<int:message_id>/retry/", views.retry, name="retry"),
    path("templates/", views.template_list, name="templates"),
    path("templates/<slug:event>/<str:language>/", views.template_edit, name="template"),
    path("templates/<slug:event>/<str:language>/preview/", views.template_preview, name="template_preview"),
    path("templates/<slug:event>/<str:language>/reset/", views.template_reset, name="template_reset"),
    path("endpoints/", views.endpoint_list, name="endpoints"),
    path("endpoints/<int:endpoint_id>/", views.endpoint_edit, name="endpoint"),
    path("endpoints/<int:endpoint_id>/test/", views.endpoint_test, name="endpoint_test"),
]
