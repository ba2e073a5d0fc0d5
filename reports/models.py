"""The clinic reports' one model: a background run and the CSV it produced.

ReportRun moved here from clinic (issue 10). Its table, constraint and index names are the
ones clinic created: the move changed Django's state, not the database (see
migrations/0001_initial.py), hence `db_table` and the literal `clinic_` prefix below.
"""

from django.conf import settings
from django.db import models

from clinic.models import PublicIdModel


class ReportRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ReportRun(PublicIdModel):
    """One background run of a clinic report (reports/): who asked for which report
    with which parameters, how far it got, and the CSV it produced, kept for download.

    `parameters` holds dates and staff public ids only, never patient data. The CSV may
    name patients (the registry), so only the requester may download it.
    """

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    report = models.CharField(max_length=40)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=ReportRunStatus.choices, default=ReportRunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    result_csv = models.TextField(blank=True)
    error_id = models.CharField(max_length=32, blank=True, help_text="Points at the log line; never a message.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "clinic_reportrun"  # the table kept its first home's name (moved from clinic)
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ReportRunStatus.values), name="clinic_%(class)s_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="clinic_%(class)s_progress_in_range"),
            models.CheckConstraint(
                condition=~models.Q(status=ReportRunStatus.DONE) | models.Q(progress=100, finished_at__isnull=False),
                name="clinic_%(class)s_done_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"report run {self.public_id} ({self.report}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ReportRunStatus.DONE, ReportRunStatus.FAILED)


class PatientReportFacts(models.Model):
    """Per-patient facts the registry reads instead of recomputing the clinic on every page
    (issue 14): derived data, rebuilt from the clinical tables by reports.facts (set-based),
    for the patients marked in ReportFactsDirty and nightly for everyone. Nothing here is a
    source of truth; a row can always be recomputed.

    Facts that depend on today (not improving, measurement or monitoring overdue) are stored
    as the dates they depend on and compared with today when the report runs."""

    patient = models.OneToOneField(
        "careplans.Patient", primary_key=True, on_delete=models.CASCADE, related_name="report_facts"
    )
    computed_on = models.DateField()
    registered_on = models.DateField()
    phq9_baseline = models.IntegerField(null=True)
    phq9_baseline_on = models.DateField(null=True)
    phq9_latest = models.IntegerField(null=True)
    gad7_baseline = models.IntegerField(null=True)
    gad7_baseline_on = models.DateField(null=True)
    gad7_latest = models.IntegerField(null=True)
    safety_alert_open = models.BooleanField(default=False)
    case_review_open = models.BooleanField(default=False)
    prescriber_name = models.CharField(max_length=302, blank=True, default="")
    therapist_name = models.CharField(max_length=302, blank=True, default="")
    care_manager_name = models.CharField(max_length=302, blank=True, default="")
    care_manager = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    last_contact = models.DateField(null=True)
    measurement_anchor = models.DateField(null=True)
    # The earliest due date of a monitoring test not yet done: overdue when before today.
    monitoring_due_on = models.DateField(null=True)
    # The process measure "follow-up within 4 weeks of intake" (reports/contacts.py): the first
    # questionnaire or attended session, and whether another contact followed within 28 days.
    intake_on = models.DateField(null=True)
    intake_followed_up = models.BooleanField(default=False)
    # F32/F33 on a care plan (reports.contacts.has_depression): the PHQ-9 process measure's patients.
    has_depression = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["care_manager"], name="reports_facts_care_manager")]

    def __str__(self) -> str:
        return f"report facts of patient {self.patient_id}"


class ReportFactsDirty(models.Model):
    """A patient whose report facts are stale: marked in the same transaction as the change
    (reports.facts signal handlers), cleared when the facts are recomputed."""

    patient = models.OneToOneField("careplans.Patient", primary_key=True, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"stale report facts of patient {self.patient_id}"


class RegimenReportFacts(models.Model):
    """Per active regimen on a monitoring protocol: the earliest due date of a test not yet done
    (medications.monitoring: each test has at most one pending item, overdue once its due date
    is before today; NULL: nothing pending). Kept with PatientReportFacts by reports.facts, so
    the clinic-wide monitoring compliance reads a date per regimen instead of running the rule
    for the clinic on every page (issue 14). Derived data only."""

    regimen = models.OneToOneField(
        "medications.Regimen", primary_key=True, on_delete=models.CASCADE, related_name="report_facts"
    )
    patient = models.ForeignKey("careplans.Patient", on_delete=models.CASCADE, related_name="+")
    monitoring_due_on = models.DateField(null=True)

    def __str__(self) -> str:
        return f"report facts of regimen {self.regimen_id}"


class ContactPeriodFacts(models.Model):
    """Per patient and calendar 4-month period (CMS160's Jan-Apr, May-Aug, Sep-Dec; `period` =
    year * 3 + (month - 1) // 4) with a contact (reports/contacts.py): the first and last contact
    day and the first and last PHQ-9 day. The process measure "PHQ-9 in each 4-month period"
    counts these rows instead of every contact of the period (issue 14); first/last days answer
    the periods the chosen dates clip. Kept by reports.facts with the patient's facts."""

    patient = models.ForeignKey("careplans.Patient", on_delete=models.CASCADE, related_name="+")
    period = models.IntegerField()
    first_contact_on = models.DateField()
    last_contact_on = models.DateField()
    first_phq9_on = models.DateField(null=True)
    last_phq9_on = models.DateField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "period"], name="reports_contact_period_unique")]
        indexes = [models.Index(fields=["period"], name="reports_contact_period_idx")]

    def __str__(self) -> str:
        return f"contacts of patient {self.patient_id} in period {self.period}"


class MonitoringItemFacts(models.Model):
    """Per active regimen on a monitoring protocol, each test's pending item (medications.
    monitoring: at most one per test, due or overdue, its date fixed until a result arrives):
    what the care team's overdue list shows, kept with RegimenReportFacts by reports.facts, so
    that list is one paged query instead of the rule run for a whole caseload on every page
    (issue 14). `position` is the item's place in the regimen's schedule (the list's last
    tie-break, as the rule lists them). Derived data only."""

    regimen = models.ForeignKey("medications.Regimen", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey("careplans.Patient", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    test = models.CharField(max_length=24)
    label = models.TextField(blank=True, default="")
    due_date = models.DateField()
    last_done_on = models.DateField(null=True)

    def __str__(self) -> str:
        return f"pending {self.test} of regimen {self.regimen_id}"
