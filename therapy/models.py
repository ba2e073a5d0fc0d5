"""Psychotherapy: courses of treatment, the sessions logged in them, homework, and the
therapist's private process notes (HIPAA "psychotherapy notes", 45 CFR 164.501).

The session record is shared with the care team. The process note is not: it lives in
its own table (SECURITY.md PN-2), is reached only through `therapy.selectors` with the
author as a filter, and is never registered in the Django admin.
"""

from datetime import date, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from careplans.models import Goal, Patient
from clinic.encryption import EncryptedTextField
from clinic.fields import BoundedTextField
from clinic.models import ClinicalRecord, PublicIdModel


class Modality(PublicIdModel):
    """Catalog of psychotherapy modalities (edited by the clinic admin in the Django admin)."""

    code = models.CharField(max_length=24, unique=True, help_text="API code, e.g. CBT, DBT, IPT, family.")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    default_duration_minutes = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    involves_others = models.BooleanField(
        default=False, help_text="Family, couples or group work: sessions record who took part."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "modalities"
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="%(app_label)s_%(class)s_code_required"),
            models.CheckConstraint(
                condition=Q(default_duration_minutes__gte=5, default_duration_minutes__lte=480),
                name="%(app_label)s_%(class)s_duration_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Frequency(models.TextChoices):
    TWICE_WEEKLY = "twice_weekly", "Twice a week"
    WEEKLY = "weekly", "Weekly"
    EVERY_2_WEEKS = "every_2_weeks", "Every 2 weeks"
    EVERY_3_WEEKS = "every_3_weeks", "Every 3 weeks"
    MONTHLY = "monthly", "Monthly"


# The planned gap between sessions, in days. A course whose last attended session is
# older than this is overdue (reminders.py).
FREQUENCY_INTERVAL_DAYS: dict[str, int] = {
    Frequency.TWICE_WEEKLY: 4,
    Frequency.WEEKLY: 7,
    Frequency.EVERY_2_WEEKS: 14,
    Frequency.EVERY_3_WEEKS: 21,
    Frequency.MONTHLY: 31,
}


class CourseStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    DISCONTINUED = "discontinued", "Discontinued"


OPEN_COURSE_STATUSES = (CourseStatus.ACTIVE, CourseStatus.ON_HOLD)


class SessionFormat(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    TELEHEALTH = "telehealth", "Telehealth"
    PHONE = "phone", "Phone"


class TherapyCourse(ClinicalRecord):
    """One course of psychotherapy: a therapist, a modality, a planned rhythm and length,
    and the care-plan goals it works on."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="therapy_courses")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    modality = models.ForeignKey(Modality, on_delete=models.PROTECT, related_name="courses")
    planned_frequency = models.CharField(max_length=16, choices=Frequency.choices, default=Frequency.WEEKLY)
    planned_sessions = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    usual_duration_minutes = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    usual_format = models.CharField(max_length=12, choices=SessionFormat.choices, default=SessionFormat.IN_PERSON)
    goals = models.ManyToManyField(Goal, blank=True, related_name="therapy_courses")
    status = models.CharField(max_length=14, choices=CourseStatus.choices, default=CourseStatus.ACTIVE)
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-started_on", "-id"]
        base_manager_name = "all_records"
        indexes = [
            # GET /api/v1/therapy-courses/ (newest first): the first page walks this index (issue 14).
            models.Index(
                fields=["-started_on", "-id"],
                condition=Q(entered_in_error_at__isnull=True),
                name="therapy_course_newest",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CourseStatus.values), name="%(app_label)s_%(class)s_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(planned_frequency__in=Frequency.values), name="%(app_label)s_%(class)s_frequency_valid"
            ),
            models.CheckConstraint(
                condition=Q(usual_format__in=SessionFormat.values), name="%(app_label)s_%(class)s_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(planned_sessions__gte=1, planned_sessions__lte=200),
                name="%(app_label)s_%(class)s_planned_sessions_in_range",
            ),
            models.CheckConstraint(
                condition=Q(usual_duration_minutes__gte=5, usual_duration_minutes__lte=480),
                name="%(app_label)s_%(class)s_duration_in_range",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="%(app_label)s_%(class)s_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OPEN_COURSE_STATUSES, ended_on__isnull=True)
                | (~Q(status__in=OPEN_COURSE_STATUSES) & Q(ended_on__isnull=False)),
                name="%(app_label)s_%(class)s_closed_has_end_date",
            ),
            # "The patient's course for that modality and therapist" (DESIGN.md API) is unique.
            models.UniqueConstraint(
                fields=["patient", "therapist", "modality"],
                condition=Q(status__in=OPEN_COURSE_STATUSES, entered_in_error_at__isnull=True),
                name="%(app_label)s_%(class)s_one_open_per_modality_therapist",
            ),
        ]

    def __str__(self) -> str:
        return f"therapy course {self.public_id} ({self.status})"

    @property
    def interval_days(self) -> int:
        return FREQUENCY_INTERVAL_DAYS[self.planned_frequency]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_COURSE_STATUSES

    def next_due_after(self, day: date) -> date:
        """The date the next session is due when the last one was on `day`."""
        return day + timedelta(days=self.interval_days)


class Attendance(models.TextChoices):
    ATTENDED = "attended", "Attended"
    CANCELLED = "cancelled", "Cancelled"
    LATE_CANCEL = "late_cancel", "Late cancel"
    NO_SHOW = "no_show", "No show"


# A missed session the team should follow up (issue 5: no-show or late cancel).
MISSED_ATTENDANCE = (Attendance.NO_SHOW, Attendance.LATE_CANCEL)


class RiskLevel(models.TextChoices):
    NONE = "none", "None"
    LOW = "low", "Low"
    RAISED = "raised", "Raised"


class TherapySession(ClinicalRecord):
    """One logged session. Everything here is shared with the care team; the private
    process note is a separate row (ProcessNote)."""

    course = models.ForeignKey(TherapyCourse, on_delete=models.PROTECT, related_name="sessions")
    session_date = models.DateField(default=timezone.localdate)
    duration_minutes = models.PositiveSmallIntegerField(validators=[MaxValueValidator(480)])
    format = models.CharField(max_length=12, choices=SessionFormat.choices, default=SessionFormat.IN_PERSON)
    attendance = models.CharField(max_length=12, choices=Attendance.choices, default=Attendance.ATTENDED)
    participants = models.CharField(
        max_length=300, blank=True, help_text="Family, couples and group work: who took part."
    )
    summary = BoundedTextField("shared summary", blank=True)
    risk_level = models.CharField(max_length=8, choices=RiskLevel.choices, default=RiskLevel.NONE)
    risk_note = models.CharField(max_length=500, blank=True)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-session_date", "-id"]
        base_manager_name = "all_records"
        indexes = [
            models.Index(fields=["course", "session_date"]),
            # A course's last attended session, one index probe per course (therapy.reminders,
            # the overdue-course scan; issue 14), instead of aggregating every session.
            models.Index(
                fields=["course", "session_date"],
                condition=Q(attendance="attended", entered_in_error_at__isnull=True),
                name="therapy_session_attended_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(attendance__in=Attendance.values), name="%(app_label)s_%(class)s_attendance_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=SessionFormat.values), name="%(app_label)s_%(class)s_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(risk_level__in=RiskLevel.values), name="%(app_label)s_%(class)s_risk_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=0, duration_minutes__lte=480),
                name="%(app_label)s_%(class)s_duration_in_range",
            ),
            # A session that took place took some time; a missed one may be logged as 0.
            models.CheckConstraint(
                condition=~Q(attendance=Attendance.ATTENDED) | Q(duration_minutes__gte=1),
                name="%(app_label)s_%(class)s_attended_has_duration",
            ),
            models.CheckConstraint(
                condition=~Q(risk_level=RiskLevel.RAISED) | ~Q(risk_note=""),
                name="%(app_label)s_%(class)s_raised_risk_has_note",
            ),
        ]

    def __str__(self) -> str:
        return f"therapy session {self.public_id} ({self.attendance})"


class GoalProgress(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    ACHIEVED = "achieved", "Achieved"
    REVISED = "revised", "Revised"


class SessionGoalProgress(PublicIdModel):
    """Progress on one of the course's care-plan goals, as judged in one session."""

    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="goal_progress")
    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="therapy_progress")
    progress = models.CharField(max_length=12, choices=GoalProgress.choices)

    class Meta:
        ordering = ["session", "goal", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__in=GoalProgress.values), name="%(app_label)s_%(class)s_progress_valid"
            ),
            models.UniqueConstraint(fields=["session", "goal"], name="%(app_label)s_%(class)s_once_per_session"),
        ]

    def __str__(self) -> str:
        return f"goal progress {self.public_id} ({self.progress})"


class HomeworkCompletion(models.TextChoices):
    ASSIGNED = "assigned", "Not reviewed yet"
    DONE = "done", "Done"
    PARTLY = "partly", "Partly done"
    NOT_DONE = "not_done", "Not done"


class Homework(PublicIdModel):
    """Between-session work agreed in one session; whether it was done is recorded in the next."""

    assigned_in = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="homework_assigned")
    description = models.CharField(max_length=500)
    completion = models.CharField(
        max_length=10, choices=HomeworkCompletion.choices, default=HomeworkCompletion.ASSIGNED
    )
    reviewed_in = models.ForeignKey(
        TherapySession, null=True, blank=True, on_delete=models.PROTECT, related_name="homework_reviewed"
    )

    class Meta:
        ordering = ["-assigned_in__session_date", "-id"]
        verbose_name_plural = "homework"
        constraints = [
            models.CheckConstraint(
                condition=Q(completion__in=HomeworkCompletion.values), name="%(app_label)s_%(class)s_completion_valid"
            ),
            models.CheckConstraint(condition=~Q(description=""), name="%(app_label)s_%(class)s_description_required"),
            models.CheckConstraint(
                condition=Q(completion=HomeworkCompletion.ASSIGNED, reviewed_in__isnull=True)
                | (~Q(completion=HomeworkCompletion.ASSIGNED) & Q(reviewed_in__isnull=False)),
                name="%(app_label)s_%(class)s_reviewed_has_session",
            ),
            models.UniqueConstraint(fields=["assigned_in"], name="%(app_label)s_%(class)s_one_per_session"),
        ]

    def __str__(self) -> str:
        return f"homework {self.public_id} ({self.completion})"


class ProcessNote(PublicIdModel):
    """The therapist's private process note on a session: visible to its author alone
    (SECURITY.md PN-1, PN-2). `related_name="+"` keeps it off the session object, so no
    prefetch, serializer or template can reach it from a shared record by accident.

    PN-3: `text` is encrypted at rest (clinic.encryption, Fernet keys from the environment);
    the database, its dumps and backups hold only tokens. Never add this model to the admin.
    """

    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "author"], name="%(app_label)s_%(class)s_one_per_author"),
        ]

    def __str__(self) -> str:
        return f"process note {self.public_id}"  # never the text: __str__ ends up in logs

    def __repr__(self) -> str:
        return f"<ProcessNote {self.public_id}>"
