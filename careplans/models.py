"""Patients, their care teams, and the one shared care plan each patient has."""

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from careplans.search import search_name_for
from clinic.fields import BoundedTextField
from clinic.models import ClinicalRecord, PublicIdModel
from clinic.validators import MEDIUM_TEXT_MAX_LENGTH, validate_birth_date, validate_clean_identifier


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DISCHARGED = "discharged", "Discharged"


class PatientManager(models.Manager["Patient"]):
    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list["Patient"]:
        """bulk_create skips save(): fill the search column here too (seeders, benchmarks)."""
        objs = list(objs)
        for patient in objs:
            patient.search_name_refresh()
        return super().bulk_create(objs, *args, **kwargs)


class Patient(PublicIdModel):
    mrn = models.CharField("MRN", max_length=32, unique=True, validators=[validate_clean_identifier])
    given_name = models.CharField(max_length=100, validators=[validate_clean_identifier])
    family_name = models.CharField(max_length=100, validators=[validate_clean_identifier])
    birth_date = models.DateField(validators=[validate_birth_date])
    preferred_name = models.CharField(max_length=100, blank=True, validators=[validate_clean_identifier])
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=12, choices=PatientStatus.choices, default=PatientStatus.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Names lower-cased and unaccented, kept by save() (careplans/search.py): what search matches;
    # PostgreSQL indexes it with pg_trgm (migration 0006).
    search_name = models.CharField(max_length=310, blank=True, editable=False)

    objects = PatientManager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        indexes = [
            # Every patient list pages by name (keyset on these three: careplans/paging.py).
            models.Index(fields=["family_name", "given_name", "id"], name="careplans_patient_name_idx"),
            models.Index(fields=["birth_date"], name="careplans_patient_born_idx"),  # search by birth date
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PatientStatus.values), name="%(app_label)s_%(class)s_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"patient {self.public_id}"  # never a name: __str__ ends up in logs

    def search_name_refresh(self) -> None:
        self.search_name = search_name_for(
            given_name=self.given_name, family_name=self.family_name, preferred_name=self.preferred_name
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_name_refresh()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"given_name", "family_name", "preferred_name"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())


class TeamRole(models.TextChoices):
    PRESCRIBER = "prescriber", "Prescriber"
    THERAPIST = "therapist", "Therapist"
    CARE_MANAGER = "care_manager", "Care manager"
    PSYCHIATRIC_CONSULTANT = "psychiatric_consultant", "Psychiatric consultant"


class CareTeamMember(PublicIdModel):
    """A clinician on a patient's care team for a period; ending it removes access at once."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=24, choices=TeamRole.choices)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["role", "started_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=TeamRole.values), name="%(app_label)s_%(class)s_role_valid"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="%(app_label)s_%(class)s_dates_in_order",
            ),
            models.UniqueConstraint(
                fields=["patient", "user", "role"],
                condition=Q(ended_at__isnull=True),
                name="%(app_label)s_%(class)s_one_active_per_role",
            ),
        ]
        indexes = [
            # A caseload: "my active memberships", looked up by user (careplans/selectors.py).
            models.Index(
                fields=["user", "patient"], condition=Q(ended_at__isnull=True), name="careplans_member_active_user"
            ),
        ]

    def __str__(self) -> str:
        return f"care team member {self.public_id} ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class CarePlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"


class CarePlan(PublicIdModel):
    """The shared plan. `version` grows on every save; a stale version is refused (CC-1)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_plans")
    status = models.CharField(max_length=12, choices=CarePlanStatus.choices, default=CarePlanStatus.ACTIVE)
    version = models.PositiveIntegerField(default=1)
    summary = BoundedTextField(blank=True, help_text="The team's shared formulation.")
    # [{"code": "F32.1", "description": "Major depressive disorder, single episode, moderate"}]
    diagnoses = models.JSONField(default=list, blank=True)
    review_date = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-updated_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CarePlanStatus.values), name="%(app_label)s_%(class)s_status_valid"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="%(app_label)s_%(class)s_version_positive"),
            # One shared plan per patient: a new one only once the old one is completed.
            models.UniqueConstraint(
                fields=["patient"],
                condition=~Q(status=CarePlanStatus.COMPLETED),
                name="%(app_label)s_%(class)s_one_open_per_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"care plan {self.public_id} v{self.version}"


class GoalDomain(models.TextChoices):
    SYMPTOM = "symptom", "Symptom"
    FUNCTIONING = "functioning", "Functioning"
    LIFESTYLE = "lifestyle", "Lifestyle"
    RELAPSE_PREVENTION = "relapse_prevention", "Relapse prevention"


class GoalStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    ACHIEVED = "achieved", "Achieved"
    REVISED = "revised", "Revised"
    DISCONTINUED = "discontinued", "Discontinued"


class Goal(ClinicalRecord):
    care_plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="goals")
    domain = models.CharField(max_length=24, choices=GoalDomain.choices)
    description = models.CharField(max_length=500)
    target = models.CharField(max_length=300, blank=True, help_text="How the team will know, e.g. PHQ-9 below 5.")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=14, choices=GoalStatus.choices, default=GoalStatus.PROPOSED)
    status_changed_at = models.DateTimeField(default=timezone.now)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_date", "id"]
        base_manager_name = "all_records"
        constraints = [
            models.CheckConstraint(
                condition=Q(domain__in=GoalDomain.values), name="%(app_label)s_%(class)s_domain_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=GoalStatus.values), name="%(app_label)s_%(class)s_status_valid"
            ),
            models.CheckConstraint(condition=~Q(description=""), name="%(app_label)s_%(class)s_description_required"),
        ]

    def __str__(self) -> str:
        return f"goal {self.public_id} ({self.status})"


class RelapsePreventionPlan(PublicIdModel):
    """The patient's self-management plan (AIMS Center relapse-prevention tool, CLINICAL.md).

    Edits bump the care plan's version: it is part of the one shared plan.
    """

    care_plan = models.OneToOneField(CarePlan, on_delete=models.PROTECT, related_name="relapse_plan")
    warning_signs = BoundedTextField(blank=True, max_length=MEDIUM_TEXT_MAX_LENGTH)
    triggers = BoundedTextField(blank=True, max_length=MEDIUM_TEXT_MAX_LENGTH)
    coping_strategies = BoundedTextField(blank=True, max_length=MEDIUM_TEXT_MAX_LENGTH)
    people_to_contact = BoundedTextField(blank=True, max_length=MEDIUM_TEXT_MAX_LENGTH)
    crisis_steps = BoundedTextField(blank=True, max_length=MEDIUM_TEXT_MAX_LENGTH)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"relapse prevention plan {self.public_id}"

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in RELAPSE_PLAN_FIELDS)


RELAPSE_PLAN_FIELDS = ("warning_signs", "triggers", "coping_strategies", "people_to_contact", "crisis_steps")


class AgreementKind(models.TextChoices):
    INFORMED_CONSENT = "informed_consent", "Informed consent"
    SHARED_DECISION = "shared_decision", "Shared decision"


class PlanAgreement(ClinicalRecord):
    """Informed consent or a shared decision recorded on the plan: who, when, what was agreed."""

    care_plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="agreements")
    kind = models.CharField(max_length=20, choices=AgreementKind.choices)
    agreed_on = models.DateField(default=timezone.localdate)
    participants = models.CharField(max_length=300, help_text="Who took part, e.g. patient, partner, Dr Okafor.")
    agreement = BoundedTextField(max_length=MEDIUM_TEXT_MAX_LENGTH, help_text="What was agreed.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-agreed_on", "-id"]
        base_manager_name = "all_records"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AgreementKind.values), name="%(app_label)s_%(class)s_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"plan agreement {self.public_id} ({self.kind})"


class CaseReviewStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    COMPLETED = "completed", "Completed"


class CaseReview(ClinicalRecord):
    """Systematic psychiatric case review (Collaborative Care; CLINICAL.md: Bao 2015 weeks 8-12).

    A care manager flags the patient ("discuss at case review"); the consultant records
    the review and recommendations, which become CarePlanTasks.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="case_reviews")
    status = models.CharField(max_length=10, choices=CaseReviewStatus.choices, default=CaseReviewStatus.REQUESTED)
    reason = models.CharField(max_length=500)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    recommendations = BoundedTextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        base_manager_name = "all_records"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CaseReviewStatus.values), name="%(app_label)s_%(class)s_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=CaseReviewStatus.REQUESTED) | Q(reviewed_at__isnull=False),
                name="%(app_label)s_%(class)s_completed_has_review",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="requested", entered_in_error_at__isnull=True),
                name="%(app_label)s_%(class)s_one_open_per_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"case review {self.public_id} ({self.status})"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class CarePlanTask(ClinicalRecord):
    """A to-do on the care plan, e.g. a case-review recommendation ("increase sertraline to 100 mg")."""

    care_plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="tasks")
    description = models.CharField(max_length=500)
    assigned_role = models.CharField(max_length=24, choices=TeamRole.choices, blank=True)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    source_review = models.ForeignKey(CaseReview, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "due_date", "id"]
        base_manager_name = "all_records"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=TaskStatus.values), name="%(app_label)s_%(class)s_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"care plan task {self.public_id} ({self.status})"


class GoalStatusChange(models.Model):
    """One move of a goal's status: from, to, who, when (issue 16 item 5). Append-only."""

    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="status_history")
    from_status = models.CharField(max_length=14, choices=GoalStatus.choices, blank=True)  # blank: created
    to_status = models.CharField(max_length=14, choices=GoalStatus.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"goal status {self.from_status or '-'} -> {self.to_status}"


class CarePlanVersion(models.Model):
    """The plan's text as saved at one `version` (issue 16 item 4): the care plan's own fields
    and its relapse-prevention plan, which shares the version. Written by every service that
    claims a new version; never changed afterwards."""

    care_plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    saved_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=CarePlanStatus.choices)
    summary = models.TextField(blank=True)
    diagnoses = models.JSONField(default=list, blank=True)
    review_date = models.DateField(null=True, blank=True)
    warning_signs = models.TextField(blank=True)
    triggers = models.TextField(blank=True)
    coping_strategies = models.TextField(blank=True)
    people_to_contact = models.TextField(blank=True)
    crisis_steps = models.TextField(blank=True)
    restored_from = models.PositiveIntegerField(
        null=True, blank=True, help_text="The version whose text this restored."
    )

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["care_plan", "version"], name="careplans_careplanversion_one_per_version"),
        ]

    def __str__(self) -> str:
        return f"care plan version {self.version}"


class BreakGlassGrant(PublicIdModel):
    """Emergency access to one chart for a clinician off its care team (issue 12 item 6).

    While `expires_at` is ahead, the patient is in the user's clinical scope
    (careplans.selectors.patients_on_care_team_of, the one access path). The reason lives here,
    never in the audit row; the clinic admins review it in the break-glass report."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="break_glass_grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["user", "patient", "expires_at"], name="careplans_breakglass_scope_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="%(app_label)s_%(class)s_reason_required"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("started_at")), name="%(app_label)s_%(class)s_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"break-glass grant {self.public_id}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()
