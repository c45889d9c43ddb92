from __future__ import annotations

from django.urls import path

from . import makegood_views, views, work_views

app_name = "desk"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("queue/rows/", views.queue_rows, name="queue_rows"),
    path("cases/<int:case_id>/", views.case_page, name="case"),
    path("cases/<int:case_id>/live/", views.case_live, name="case_live"),
    path("cases/<int:case_id>/events/", views.case_event, name="case_event"),
    path("cases/<int:case_id>/oral/", views.case_oral, name="case_oral"),
    path("cases/<int:case_id>/breaches/", makegood_views.breach_report, name="breach_report"),
    path("cases/<int:case_id>/stage/", work_views.case_stage, name="case_stage"),
    path("cases/<int:case_id>/assign/", work_views.case_assign, name="case_assign"),
    path("cases/<int:case_id>/notes/", work_views.case_note, name="case_note"),
    path("cases/<int:case_id>/appointment/", work_views.case_appointment, name="case_appointment"),
    path("cases/<int:case_id>/arrived/", work_views.case_arrived, name="case_arrived"),
    path("cases/<int:case_id>/customer/", work_views.customer_profile, name="customer_profile"),
    path("attachments/<int:attachment_id>/", work_views.attachment_download, name="attachment"),
    path("log/", work_views.log_contact, name="log_contact"),
    path("log/customers/", work_views.log_contact_customers, name="log_contact_customers"),
    path("stages/", work_views.stage_labels, name="stages"),
    path("commitments/<int:commitment_id>/fulfil/", views.commitment_fulfil, name="commitment_fulfil"),
    path("breaches/", makegood_views.breach_list, name="breaches"),
    path("breaches/<int:breach_id>/verify/", makegood_views.breach_verify, name="breach_verify"),
    path("breaches/<int:breach_id>/root-cause/", makegood_views.breach_root_cause, name="breach_root_cause"),
    path("compensations/", makegood_views.ledger, name="ledger"),
    path("compensations/export.csv", makegood_views.ledger_csv, name="ledger_csv"),
    path("compensations/<int:compensation_id>/approve/", makegood_views.compensation_approve, name="comp_approve"),
    path("compensations/<int:compensation_id>/issue/", makegood_views.compensation_issue, name="comp_issue"),
    path("compensations/<int:compensation_id>/decline/", makegood_views.compensation_decline, name="comp_decline"),
    path("promises/", views.promise_list, name="promises"),
    path("promises/<str:code>/", views.promise_detail, name="promise"),
]
