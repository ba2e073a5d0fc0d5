"""What the patient takes part in (issue 17): links they open without a login, the answers and
check-ins those links bring back, their safety plan, measured goal targets, and the clinic's
settings for all of it.

A link's token is shown once (URL, QR code, e-mail) and stored only as its SHA-256 hash.
"""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from careplans.models import Goal, Patient
from clinic.models import ClinicalRecord, PublicIdModel

DEFAULT_CRISIS_TEXT = (
    "If you are thinking about suicide or harming yourself, or you are worried you might act on these thoughts, "
    "get help now.\n"
    "Call or text 988, the 988 Suicide & Crisis Lifeline (24 hours a day, free and confidential).\n"
    "If you are in immediate danger, call 911 or go to the nearest emergency department.\n"
    "Your care team has been told and will contact you."
)


class PortalSettings(models.Model):
    """The clinic's settings for patient links (one row; the clinic admin edits it in the Django admin)."""

    crisis_resources = models.TextField(
        default=DEFAULT_CRISIS_TEXT,
        help_text="Shown to a patient at once when PHQ-9 item 9 is answered above 0. One line per resource.",
    )
    measurement_links = models.BooleanField(
        default=False,
        help_text="When a measurement is due, e-mail the patient a self-report link (patients with an e-mail only).",
    )
    link_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(90)], help_text="Days a new link stays valid."
    )

    class Meta:
        verbose_name = "patient link settings"
        verbose_name_plural = "patient link settings"

    def __str__(self) -> str:
        return "patient link settings"

    @classmethod
    def current(cls) -> "PortalSettings":
        return cls.objects.order_by("pk").first() or cls()


class LinkPurpose(models.TextChoices):
    QUESTIONNAIRE = "questionnaire", "Questionnaire"
    CHECK_IN = "check_in", "Check-in"
    TAKE_HOME = "take_home", "Take-home plan"


class LinkState(models.TextChoices):
    OPEN = "open", "Not used yet"
    USED = "used", "Used"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class PatientLink(PublicIdModel):
    """One link for one patient and one purpose. Questionnaire and check-in links are single-use;
    a take-home link can be reopened until it expires or is revoked."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="portal_links")
    purpose = models.CharField(max_length=14, choices=LinkPurpose.choices)
    instrument = models.CharField(max_length=8, blank=True, help_text="For a questionnaire link: PHQ-9, GAD-7, WSAS.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    emailed_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    schedule = models.ForeignKey(
        "CheckInSchedule", null=True, blank=True, on_delete=models.PROTECT, related_name="links"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "purpose", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=LinkPurpose.values), name="%(app_label)s_%(class)s_purpose_valid"
            ),
            models.CheckConstraint(
                condition=Q(purpose="questionnaire", instrument__gt="")
                | (~Q(purpose="questionnaire") & Q(instrument="")),
                name="%(app_label)s_%(class)s_instrument_for_questionnaires",
            ),
        ]

    def __str__(self) -> str:
        return f"patient link {self.public_id} ({self.purpose})"  # never the token

    @property
    def single_use(self) -> bool:
        return self.purpose != LinkPurpose.TAKE_HOME

    def state(self, now=None) -> str:  # type: ignore[no-untyped-def]
        now = now or timezone.now()
        if self.revoked_at is not None:
            return LinkState.REVOKED
        if self.used_at is not None and self.single_use:
            return LinkState.USED
        if now >= self.expires_at:
            return LinkState.EXPIRED
        return LinkState.OPEN

    @property
    def state_label(self) -> str:
        return LinkState(self.state()).label


class ScheduleFrequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


SCHEDULE_INTERVAL = {ScheduleFrequency.DAILY: timedelta(days=1), ScheduleFrequency.WEEKLY: timedelta(days=7)}


class CheckInSchedule(PublicIdModel):
    """How often the patient is sent a check-in link (set by a clinician; one active per patient)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="check_in_schedules")
    frequency = models.CharField(max_length=8, choices=ScheduleFrequency.choices)
    active = models.BooleanField(default=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency__in=ScheduleFrequency.values), name="%(app_label)s_%(class)s_frequency_valid"
            ),
            models.UniqueConstraint(
                fields=["patient"], condition=Q(active=True), name="%(app_label)s_%(class)s_one_active_per_patient"
            ),
        ]

    def __str__(self) -> str:
        return f"check-in schedule {self.public_id} ({self.frequency})"


class MedicationTaken(models.TextChoices):
    YES = "yes", "Yes, all of it"
    PARTLY = "partly", "Some of it"
    NO = "no", "No"


class CheckIn(ClinicalRecord):
    """A short between-session check-in the patient filled in from a link."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="check_ins")
    link = models.OneToOneField(PatientLink, on_delete=models.PROTECT, related_name="check_in")
    answered_on = models.DateField(default=timezone.localdate)
    mood = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    sleep_hours = models.DecimalField(
        max_digits=3, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(24)]
    )
    activity_minutes = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(1440)])
    medication_taken = models.CharField(max_length=8, choices=MedicationTaken.choices, blank=True)
    note = models.TextField(blank=True, max_length=1000)

    class Meta:
        ordering = ["-answered_on", "-created_at", "-id"]
        base_manager_name = "all_records"
        indexes = [models.Index(fields=["patient", "answered_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(mood__lte=10), name="%(app_label)s_%(class)s_mood_range"),
            models.CheckConstraint(
                condition=Q(sleep_hours__isnull=True) | Q(sleep_hours__gte=0, sleep_hours__lte=24),
                name="%(app_label)s_%(class)s_sleep_range",
            ),
            models.CheckConstraint(
                condition=Q(activity_minutes__isnull=True) | Q(activity_minutes__lte=1440),
                name="%(app_label)s_%(class)s_activity_range",
            ),
            models.CheckConstraint(
                condition=Q(medication_taken__in=[*MedicationTaken.values, ""]),
                name="%(app_label)s_%(class)s_medication_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"check-in {self.public_id}"


# The six steps of the Stanley-Brown safety planning method (CLINICAL.md b5 licensing note:
# the method, in our own words and the patient's; not the copyrighted form).
SAFETY_PLAN_STEPS = (
    ("warning_signs", "1. Signs that a crisis may be starting", "Thoughts, feelings, situations I notice first."),
    ("coping_strategies", "2. Things I can do on my own to take my mind off it", "What helps me, by myself."),
    (
        "distractions",
        "3. People and places that help me feel better",
        "Who I can be with, or where I can go, to get my mind off things.",
    ),
    ("people_to_ask", "4. People I can ask for help", "Names and phone numbers."),
    (
        "professionals",
        "5. Professionals and services I can contact",
        "My clinicians, the clinic's number, the 988 Suicide & Crisis Lifeline, the nearest emergency department.",
    ),
    (
        "safe_environment",
        "6. Making my surroundings safer",
        "What I will do to keep things I could use to hurt myself away.",
    ),
)
SAFETY_PLAN_FIELDS = tuple(name for name, _, _ in SAFETY_PLAN_STEPS)


class SafetyPlan(PublicIdModel):
    """The patient's safety plan, in their own words. `version` grows on every save; a stale one is refused."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="safety_plan")
    version = models.PositiveIntegerField(default=1)
    warning_signs = models.TextField(blank=True, max_length=2000)
    coping_strategies = models.TextField(blank=True, max_length=2000)
    distractions = models.TextField(blank=True, max_length=2000)
    people_to_ask = models.TextField(blank=True, max_length=2000)
    professionals = models.TextField(blank=True, max_length=2000)
    safe_environment = models.TextField(blank=True, max_length=2000)
    agreed_on = models.DateField(null=True, blank=True, help_text="The day the patient agreed this version.")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(version__gte=1), name="%(app_label)s_%(class)s_version_positive")
        ]

    def __str__(self) -> str:
        return f"safety plan {self.public_id} v{self.version}"

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in SAFETY_PLAN_FIELDS)

    def steps(self) -> list[dict[str, str]]:
        return [{"key": k, "title": t, "hint": h, "text": getattr(self, k)} for k, t, h in SAFETY_PLAN_STEPS]


class SafetyPlanVersion(models.Model):
    """Every saved version of a safety plan, with who saved it and when (append-only)."""

    plan = models.ForeignKey(SafetyPlan, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    content = models.JSONField()  # the six steps as saved
    agreed_on = models.DateField(null=True, blank=True)
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["plan", "version"], name="%(app_label)s_%(class)s_unique")]

    def __str__(self) -> str:
        return f"safety plan version {self.version}"


class TargetMeasure(models.TextChoices):
    PHQ9 = "phq9_total", "PHQ-9 total"
    GAD7 = "gad7_total", "GAD-7 total"
    WSAS = "wsas_total", "WSAS total"
    SLEEP = "sleep_hours", "Sleep (hours a night)"
    ACTIVITY = "activity_minutes", "Activity (minutes a day)"
    WEIGHT = "weight", "Body weight"
    BMI = "bmi", "BMI"


class TargetDirection(models.TextChoices):
    AT_MOST = "at_most", "at most"
    BELOW = "below", "below"
    AT_LEAST = "at_least", "at least"


class GoalTarget(PublicIdModel):
    """A measured target for a care-plan goal; progress is computed, never typed (issue 17 item 4).
    Kept here, beside careplans.Goal, so careplans' models stay as they are."""

    goal = models.OneToOneField(Goal, on_delete=models.PROTECT, related_name="measured_target")
    measure = models.CharField(max_length=20, choices=TargetMeasure.choices)
    direction = models.CharField(max_length=10, choices=TargetDirection.choices)
    value = models.DecimalField(max_digits=7, decimal_places=1, validators=[MinValueValidator(0)])
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(measure__in=TargetMeasure.values), name="%(app_label)s_%(class)s_measure_valid"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=TargetDirection.values), name="%(app_label)s_%(class)s_direction_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"goal target {self.public_id} ({self.measure})"
