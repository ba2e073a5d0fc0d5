"""What the harness times: every page and list API that grows with the clinic, the
per-patient pages, and the floor; each with the raw SQL for the rows it shows (or should
show: a list's raw query is its first page of 50, the goal of issue 14).

Raw SQL placeholders: %(patient)s internal patient id, %(user)s the requesting user's id.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    name: str
    path: str  # {pid} = the chart patient's public id
    role: str  # admin, care_manager, prescriber, therapist
    grows: bool  # with the clinic (False: per patient, or constant)
    raw: tuple[str, ...] = ()


PATIENT_PAGE = (
    "SELECT id, public_id, mrn, given_name, family_name, birth_date, status FROM careplans_patient "
    "ORDER BY family_name, given_name, id LIMIT 50"
)
CASELOAD = (
    "SELECT p.id, p.public_id, p.mrn, p.given_name, p.family_name FROM careplans_patient p "
    "WHERE p.id IN (SELECT patient_id FROM careplans_careteammember WHERE user_id = %(user)s AND ended_at IS NULL) "
    "ORDER BY p.family_name, p.given_name, p.id LIMIT 50"
)
CHART = (
    "SELECT * FROM careplans_patient WHERE id = %(patient)s",
    "SELECT * FROM careplans_careplan WHERE patient_id = %(patient)s",
    "SELECT m.*, u.first_name, u.last_name FROM careplans_careteammember m JOIN clinic_user u ON u.id = m.user_id "
    "WHERE m.patient_id = %(patient)s",
    "SELECT * FROM outcomes_assessment WHERE patient_id = %(patient)s ORDER BY administered_on DESC LIMIT 20",
    "SELECT r.*, m.name FROM medications_regimen r JOIN medications_medication m ON m.id = r.medication_id "
    "WHERE r.patient_id = %(patient)s",
    "SELECT s.* FROM therapy_therapysession s JOIN therapy_therapycourse c ON c.id = s.course_id "
    "WHERE c.patient_id = %(patient)s ORDER BY s.session_date DESC LIMIT 20",
)
ASSESSMENTS = ("SELECT * FROM outcomes_assessment WHERE patient_id = %(patient)s ORDER BY administered_on DESC",)
MEDICATIONS = (
    "SELECT r.*, m.name FROM medications_regimen r JOIN medications_medication m ON m.id = r.medication_id "
    "WHERE r.patient_id = %(patient)s",
    "SELECT d.* FROM medications_dosechange d JOIN medications_regimen r ON r.id = d.regimen_id "
    "WHERE r.patient_id = %(patient)s",
    "SELECT * FROM medications_labresult WHERE patient_id = %(patient)s ORDER BY taken_on DESC",
)
THERAPY = (
    "SELECT * FROM therapy_therapycourse WHERE patient_id = %(patient)s",
    "SELECT s.* FROM therapy_therapysession s JOIN therapy_therapycourse c ON c.id = s.course_id "
    "WHERE c.patient_id = %(patient)s ORDER BY s.session_date DESC",
)
INBOX = (
    "SELECT r.*, p.given_name, p.family_name FROM careplans_reminder r LEFT JOIN careplans_patient p "
    "ON p.id = r.patient_id WHERE r.recipient_id = %(user)s AND r.status IN ('pending', 'sending', 'sent', 'failed') "
    "AND r.due_date <= current_date ORDER BY r.urgent DESC, r.due_date, r.id LIMIT 50",
)
REPORT_KEYS = ("registry", "treatment_outcomes", "medication", "monitoring", "process", "therapy")

TARGETS: list[Target] = [
    Target("floor (trivial view)", "/bench/floor/", "care_manager", False),
    Target("health", "/health/", "care_manager", False),
    # Grows with the clinic
    Target("admin patient directory", "/patients/", "admin", True, (PATIENT_PAGE,)),
    Target("care manager caseload (home)", "/", "care_manager", True, (CASELOAD,)),
    Target("outcomes caseload", "/outcomes/caseload/", "care_manager", True, (CASELOAD,)),
    Target("inbox", "/inbox/", "care_manager", True, INBOX),
    Target(
        "API patients (admin)",
        "/api/v1/patients/",
        "admin",
        True,
        (PATIENT_PAGE, "SELECT count(*) FROM careplans_patient"),
    ),
    Target("API patients (care manager)", "/api/v1/patients/", "care_manager", True, (CASELOAD,)),
    Target("API reminders", "/api/v1/reminders/", "care_manager", True, INBOX),
    Target("API assessments (all)", "/api/v1/assessments/", "care_manager", True),
    Target("API regimens (all)", "/api/v1/regimens/", "prescriber", True),
    Target("API lab results (all)", "/api/v1/lab-results/", "prescriber", True),
    Target("API therapy courses (all)", "/api/v1/therapy-courses/", "therapist", True),
    Target("API safety alerts", "/api/v1/safety-alerts/", "care_manager", True),
    Target("API case reviews", "/api/v1/case-reviews/", "care_manager", True),
    Target("API audit events", "/api/v1/audit-events/", "admin", True),
    *[Target(f"report {key}", f"/reports/{key}/", "admin", True) for key in REPORT_KEYS],
    # Per patient
    Target("chart overview", "/patients/{pid}/", "care_manager", False, CHART),
    Target("chart medications", "/patients/{pid}/medications/", "prescriber", False, MEDICATIONS),
    Target("chart therapy", "/patients/{pid}/therapy/", "therapist", False, THERAPY),
    Target("chart outcomes", "/patients/{pid}/outcomes/", "care_manager", False, ASSESSMENTS),
    Target("assessment list", "/patients/{pid}/assessments/", "care_manager", False, ASSESSMENTS),
    Target("team thread", "/patients/{pid}/team/", "care_manager", False),
    Target("care team", "/patients/{pid}/care-team/", "care_manager", False, CHART[2:3]),
    Target("API patient", "/api/v1/patients/{pid}/", "care_manager", False, CHART[:1]),
    Target("API patient outcomes", "/api/v1/patients/{pid}/outcomes/", "care_manager", False, ASSESSMENTS),
    Target("API patient monitoring", "/api/v1/patients/{pid}/monitoring/", "prescriber", False, MEDICATIONS),
    Target("API assessments ?patient=", "/api/v1/assessments/?patient={pid}", "care_manager", False, ASSESSMENTS),
    Target("API regimens ?patient=", "/api/v1/regimens/?patient={pid}", "prescriber", False, MEDICATIONS[:1]),
    Target("API therapy courses ?patient=", "/api/v1/therapy-courses/?patient={pid}", "therapist", False, THERAPY),
]
