from __future__ import annotations

from django.urls import path

from . import views

app_name = "desk"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("queue/rows/", views.queue_rows, name="queue_rows"),
    path("cases/<int:case_id>/", views.case_page, name="case"),
    path("cases/<int:case_id>/live/", views.case_live, name="case_live"),
    path("cases/<int:case_id>/events/", views.case_event, name="case_event"),
    path("cases/<int:case_id>/oral/", views.case_oral, name="case_oral"),
    path("commitments/<int:commitment_id>/fulfil/", views.commitment_fulfil, name="commitment_fulfil"),
    path("promises/", views.promise_list, name="promises"),
    path("promises/<str:code>/", views.promise_detail, name="promise"),
]
