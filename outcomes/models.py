"""Completed questionnaires, C-SSRS screeners, the safety alerts every safety signal opens (PHQ-9
item 9, a positive C-SSRS, a risk raised in a therapy session) and their follow-up.

Totals and bands are stored (so lists and reminders can filter on them) but only
ever computed by outcomes.scoring from the stored answers.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from careplans.models import Patient
from clinic.fields import BoundedTextField
from clinic.models import ClinicalRecord
from clinic.validators import MEDIUM_TEXT_MAX_LENGTH
from outcomes.cssrs import FOLLOW_UP_QUESTIONS, CssrsTriage
from outcomes.instruments import INSTRUMENTS, InstrumentCode, Severity
from reminders.safety_signals import SafetySource

MAX_TOTAL = max(instrument.max_total for instrument in INSTRUMENTS.values())


class AssessmentSource(models.TextChoices):
    """Who keyed the answers in: the clinic, or the patient through a self-report link (issue 17)."""

    CLINIC = "clinic", "Entered by the clinic"
    SELF_REPORT = "self_report", "Self-reported by the patient"


class Assessment(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessments")
    instrument = models.CharField(max_length=8, choices=InstrumentCode.choices)
    administered_on = models.DateField()
    responses = models.JSONField(help_text="One answer per item, in the order printed on the form.")
    total_score = models.PositiveSmallIntegerField()
    severity = models.CharField(max_length=20, choices=Severity.choices)
    safety_item_positive = models.BooleanField(default=False, editable=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # A self-report is stored under the clinician who sent the link (`entered_by`), marked here.
    source = models.CharField(max_length=12, choices=AssessmentSource.choices, default=AssessmentSource.CLINIC)

    class Meta:
        ordering = ["administered_on", "created_at", "id"]
        base_manager_name = "all_records"
        indexes = [
            models.Index(fields=["patient", "instrument", "administered_on"]),
            # A patient's first and latest current score of an instrument (outcomes.selectors
            # annotate_outcomes: ORDER BY administered_on, created_at, id LIMIT 1, per patient)
            # read from the index alone, no sort: the not-improving scan at 1M patients (issue 14).
            models.Index(
                fields=["patient", "instrument", "administered_on", "created_at", "id"],
                include=["total_score"],
                condition=Q(entered_in_error_at__isnull=True),
                name="outcomes_episode_scores_idx",
            ),
            # GET /api/v1/assessments/ (newest first, current records): the first page walks this
            # index and stops at 50 visible rows, whatever the caseload's size (issue 14).
            models.Index(
                fields=["-administered_on", "-created_at", "-id"],
                condition=Q(entered_in_error_at__isnull=True),
                name="outcomes_assessment_newest",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(instrument__in=InstrumentCode.values), name="%(app_label)s_%(class)s_instrument_valid"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="%(app_label)s_%(class)s_severity_valid"
            ),
            models.CheckConstraint(
                condition=Q(total_score__lte=MAX_TOTAL), name="%(app_label)s_%(class)s_total_in_range"
            ),
            models.CheckConstraint(
                condition=Q(safety_item_positive=False) | Q(instrument=InstrumentCode.PHQ9),
                name="%(app_label)s_%(class)s_safety_item_only_phq9",
            ),
        ]

    def __str__(self) -> str:
        return f"assessment {self.public_id} ({self.instrument})"

    @property
    def instrument_definition(self):  # type: ignore[no-untyped-def]
        return INSTRUMENTS[self.instrument]

    @property
    def severity_label(self) -> str:
        return self.instrument_definition.band_for(self.total_score).label

    def item_answers(self) -> list[dict]:
        """Each item with its wording and the answer given, for the detail page and API."""
        definition = self.instrument_definition
        return [
            {
                "number": item.number,
                "text": item.text,
                "loinc": item.loinc,
                "value": value,
                "label": definition.option_label(value),
            }
            for item, value in zip(definition.items, self.responses, strict=True)
        ]


class ContactMethod(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    TELEHEALTH = "telehealth", "Telehealth"
    PHONE = "phone", "Phone"


class RiskOutcome(models.TextChoices):
    """What the risk assessment found, in the order of the C-SSRS screener (CLINICAL.md b5)."""

    NO_IDEATION = "no_ideation", "No current suicidal thoughts"
    PASSIVE_IDEATION = "passive_ideation", "Wish to be dead, no active suicidal thoughts"
    ACTIVE_IDEATION = "active_ideation", "Active suicidal thoughts without method, intent or plan"
    INTENT_OR_PLAN = "intent_or_plan", "Suicidal thoughts with intent or a plan"
    RECENT_BEHAVIOUR = "recent_behaviour", "Suicidal behaviour in the past 3 months"


# Columbia triage (CLINICAL.md b5): intent, a plan, or recent behaviour need precautions
# until a mental-health professional evaluates the patient for possible hospitalisation.
HIGH_RISK_OUTCOMES = (RiskOutcome.INTENT_OR_PLAN.value, RiskOutcome.RECENT_BEHAVIOUR.value)


class RiskPlan(models.TextChoices):
    ROUTINE = "routine", "Continue care; ask again at the next contact"
    SAFETY_PLAN = "safety_plan", "Safety plan made or reviewed; crisis numbers given"
    URGENT_EVALUATION = "urgent_evaluation", "Same-day mental-health evaluation arranged"
    EMERGENCY = "emergency", "Emergency services or emergency department"


URGENT_PLANS = (RiskPlan.URGENT_EVALUATION.value, RiskPlan.EMERGENCY.value)


class SafetyFollowUp(ClinicalRecord):
    """The short structured risk assessment that answers one or more open safety alerts."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="safety_follow_ups")
    assessed_on = models.DateField(default=timezone.localdate)
    format = models.CharField(max_length=12, choices=ContactMethod.choices, help_text="How the patient was seen.")
    outcome = models.CharField(max_length=20, choices=RiskOutcome.choices)
    plan = models.CharField(max_length=20, choices=RiskPlan.choices)
    plan_details = BoundedTextField(
        max_length=MEDIUM_TEXT_MAX_LENGTH, help_text="What was done and agreed, and who follows up when."
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The patient's own safety plan (patient_portal) was gone through together (issue 17 item 2).
    safety_plan_reviewed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-assessed_on", "-created_at", "-id"]
        base_manager_name = "all_records"
        constraints = [
            models.CheckConstraint(
                condition=Q(format__in=ContactMethod.values), name="%(app_label)s_%(class)s_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=RiskOutcome.values), name="%(app_label)s_%(class)s_outcome_valid"
            ),
            models.CheckConstraint(condition=Q(plan__in=RiskPlan.values), name="%(app_label)s_%(class)s_plan_valid"),
            models.CheckConstraint(condition=~Q(plan_details=""), name="%(app_label)s_%(class)s_plan_details_required"),
            models.CheckConstraint(
                condition=~Q(outcome__in=list(HIGH_RISK_OUTCOMES)) | Q(plan__in=list(URGENT_PLANS)),
                name="%(app_label)s_%(class)s_high_risk_needs_urgent_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"safety follow-up {self.public_id}"


class SafetyAlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Followed up"


class CssrsScreen(ClinicalRecord):
    """A C-SSRS Screener, since-last-contact version (outcomes.cssrs; CLINICAL.md b5). Questions 3-5
    are NULL when not asked (question 2 answered no). `triage` is only ever computed by
    outcomes.cssrs.cssrs_triage from the stored answers."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cssrs_screens")
    screened_on = models.DateField(default=timezone.localdate)
    wish_dead = models.BooleanField()
    suicidal_thoughts = models.BooleanField()
    thoughts_with_method = models.BooleanField(null=True, blank=True)
    intent = models.BooleanField(null=True, blank=True)
    intent_with_plan = models.BooleanField(null=True, blank=True)
    behaviour = models.BooleanField()
    triage = models.CharField(max_length=10, choices=CssrsTriage.choices, editable=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-screened_on", "-created_at", "-id"]
        base_manager_name = "all_records"
        constraints = [
            models.CheckConstraint(
                condition=Q(triage__in=CssrsTriage.values), name="%(app_label)s_%(class)s_triage_valid"
            ),
            # The screener's skip rule: 3-5 are asked exactly when 2 is yes.
            models.CheckConstraint(
                condition=Q(suicidal_thoughts=True, **{f"{f}__isnull": False for f in FOLLOW_UP_QUESTIONS})
                | Q(suicidal_thoughts=False, **{f"{f}__isnull": True for f in FOLLOW_UP_QUESTIONS}),
                name="%(app_label)s_%(class)s_skip_rule",
            ),
        ]

    def __str__(self) -> str:
        return f"C-SSRS screener {self.public_id} ({self.triage})"

    @property
    def positive(self) -> bool:
        return self.triage != CssrsTriage.NEGATIVE


class SafetyAlert(ClinicalRecord):
    """Opened by any safety signal (reminders.safety_signals): a PHQ-9 with item 9 above 0, a
    positive C-SSRS screener, or a risk raised in a therapy session. Stays open until a
    clinician records a follow-up.

    A later negative PHQ-9 item 9 or C-SSRS never closes it (CLINICAL.md b4: item 9 triggers,
    never clears, risk). The session is referenced by public id, not a foreign key: therapy is
    a sibling app that outcomes may not depend on (DESIGN.md import direction)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="safety_alerts")
    source = models.CharField(max_length=16, choices=SafetySource.choices, default=SafetySource.PHQ9_ITEM9)
    source_date = models.DateField(help_text="The day of the questionnaire, screener or session.")
    assessment = models.OneToOneField(
        Assessment, null=True, blank=True, on_delete=models.PROTECT, related_name="safety_alert"
    )
    cssrs_screen = models.OneToOneField(
        CssrsScreen, null=True, blank=True, on_delete=models.PROTECT, related_name="safety_alert"
    )
    session_public_id = models.UUIDField(null=True, blank=True, unique=True)
    high_risk = models.BooleanField(default=False, help_text="Columbia triage high risk (CLINICAL.md b5).")
    status = models.CharField(max_length=10, choices=SafetyAlertStatus.choices, default=SafetyAlertStatus.OPEN)
    raised_at = models.DateTimeField(default=timezone.now)
    follow_up = models.ForeignKey(
        SafetyFollowUp, null=True, blank=True, on_delete=models.PROTECT, related_name="resolved_alerts"
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        base_manager_name = "all_records"
        indexes = [models.Index(fields=["patient", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SafetyAlertStatus.values), name="%(app_label)s_%(class)s_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=SafetyAlertStatus.OPEN, follow_up__isnull=True)
                | Q(status=SafetyAlertStatus.RESOLVED, follow_up__isnull=False),
                name="%(app_label)s_%(class)s_resolved_has_follow_up",
            ),
            models.CheckConstraint(
                condition=Q(source__in=SafetySource.values), name="%(app_label)s_%(class)s_source_valid"
            ),
            # Exactly the link its source names.
            models.CheckConstraint(
                condition=Q(
                    source=SafetySource.PHQ9_ITEM9,
                    assessment__isnull=False,
                    cssrs_screen__isnull=True,
                    session_public_id__isnull=True,
                )
                | Q(
                    source=SafetySource.CSSRS,
                    assessment__isnull=True,
                    cssrs_screen__isnull=False,
                    session_public_id__isnull=True,
                )
                | Q(
                    source=SafetySource.SESSION_RISK,
                    assessment__isnull=True,
                    cssrs_screen__isnull=True,
                    session_public_id__isnull=False,
                ),
                name="%(app_label)s_%(class)s_source_link",
            ),
        ]

    def __str__(self) -> str:
        return f"safety alert {self.public_id} ({self.source}, {self.status})"

    @property
    def what(self) -> str:
        """One line for banners and worklists; no clinical free text (SECURITY.md)."""
        if self.source == SafetySource.PHQ9_ITEM9:
            return "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) answered above 0"
        if self.source == SafetySource.CSSRS:
            return "C-SSRS screener positive" + (" – high risk" if self.high_risk else "")
        return "Risk raised in a therapy session"


class SafetyAlertRecipients(models.Model):
    """Who a safety alert is sent to: one row, edited by clinic admins (issue 16 item 3). In the
    collaborative-care model the care manager does first-line follow-up, hence all three
    clinical roles by default. When none of the chosen roles is on a patient's team, everyone on
    the team is alerted, so an alert always reaches a person."""

    prescriber = models.BooleanField("Prescriber", default=True)
    therapist = models.BooleanField("Therapist", default=True)
    care_manager = models.BooleanField("Care manager", default=True)
    psychiatric_consultant = models.BooleanField("Psychiatric consultant", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    ROLE_FIELDS = ("prescriber", "therapist", "care_manager", "psychiatric_consultant")

    class Meta:
        verbose_name = "safety alert recipients"
        verbose_name_plural = "safety alert recipients"

    def __str__(self) -> str:
        return "safety alert recipients"

    @classmethod
    def current(cls) -> "SafetyAlertRecipients":
        row, _ = cls.objects.get_or_create(pk=1)
        return row

    def roles(self) -> list[str]:
        """The chosen roles, as careplans.TeamRole values (the field names are those values)."""
        return [role for role in self.ROLE_FIELDS if getattr(self, role)]
