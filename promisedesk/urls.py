from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from promisedesk.api import api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="desk:queue", permanent=False)),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("desk/outbox/", include("promisedesk.notifications.urls")),
    path("desk/escalation/", include("promisedesk.escalations.urls")),
    path("desk/complaints/", include("promisedesk.complaints.urls")),
    path("desk/incidents/", include("promisedesk.recovery.urls")),
    path("desk/capa/", include("promisedesk.capa.urls")),
    path("desk/", include("promisedesk.desk.urls")),
    path("c/", include("promisedesk.portal.urls")),
    path("", include("promisedesk.intake.urls")),
]
