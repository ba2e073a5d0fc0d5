"""Inbox, reminder delivery and the care team's thread (issue 3: reminders), included by
clinic/urls.py. The API routes are in reminders/api.py."""

from django.urls import path

from reminders import inbox_views, team_views

app_name = "reminders"

urlpatterns = [
    path("inbox/", inbox_views.inbox_page, name="inbox"),
    path("inbox/delivery/", inbox_views.reminder_delivery, name="reminder_delivery"),
    path("inbox/delivery/retry/", inbox_views.reminder_delivery_retry, name="reminder_delivery_retry"),
    path("inbox/<uuid:reminder_id>/acknowledge/", inbox_views.reminder_acknowledge, name="reminder_acknowledge"),
    path("inbox/<uuid:reminder_id>/snooze/", inbox_views.reminder_snooze, name="reminder_snooze"),
    path("inbox/<uuid:reminder_id>/done/", inbox_views.reminder_complete, name="reminder_complete"),
    path("inbox/<uuid:reminder_id>/undo-done/", inbox_views.reminder_undo_done, name="reminder_undo_done"),
    path("patients/<uuid:patient_id>/team/", team_views.team_thread, name="team_thread"),
    path("patients/<uuid:patient_id>/team/<uuid:message_id>/reply/", team_views.team_reply, name="team_reply"),
]
