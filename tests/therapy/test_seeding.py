"""The demo seeder: most demo patients get a course with a realistic run of sessions."""

from django.core.management import call_command

from careplans.models import Patient
from reminders.models import Reminder, ReminderKind
from therapy.models import Attendance, TherapyCourse, TherapySession


def test_seed_demo_gives_most_patients_a_course_with_mostly_attended_sessions(db):
    call_command("seed_demo", patients=12, allow_production=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    patients = Patient.objects.count()
    in_therapy = TherapyCourse.objects.values("patient").distinct().count()
    assert in_therapy >= patients // 2
    sessions = TherapySession.objects.count()
    attended = TherapySession.objects.filter(attendance=Attendance.ATTENDED).count()
    missed = TherapySession.objects.filter(attendance__in=[Attendance.NO_SHOW, Attendance.LATE_CANCEL]).count()
    assert sessions >= in_therapy * 3
    assert attended / sessions > 0.7
    assert missed >= 1
    assert Reminder.objects.filter(kind=ReminderKind.SESSION_FOLLOW_UP, subject_type="therapy.therapysession").exists()

    call_command("seed_demo", patients=12, allow_production=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert TherapySession.objects.count() == sessions  # a re-run adds nothing
