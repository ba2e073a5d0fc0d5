"""Seed a realistic synthetic clinic. Idempotent: a second run adds nothing.

Every name, MRN and date here is invented. Refuses to run with DEBUG off unless
--allow-production is given, so demo accounts never appear in a real clinic (AU-5).
"""

import random
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from careplans import services
from careplans.models import CarePlanStatus, GoalDomain, GoalStatus, Patient, TeamRole
from careplans.seeding import DemoClinic, demo_seeders
from clinic.models import User

DEMO_PASSWORD = "tandem-demo-2026"  # noqa: S105  (documented in the README; dev only)

STAFF = [
    # username, first, last, roles
    ("admin", "Ada", "Morales", ["clinic_admin"]),
    ("dr.okafor", "Chidi", "Okafor", ["prescriber"]),
    ("dr.lindqvist", "Sara", "Lindqvist", ["prescriber", "therapist"]),
    ("np.haddad", "Rami", "Haddad", ["prescriber"]),
    ("t.nguyen", "Linh", "Nguyen", ["therapist"]),
    ("t.brennan", "Aoife", "Brennan", ["therapist"]),
    ("t.silva", "Marco", "Silva", ["therapist"]),
    ("cm.kowalski", "Ewa", "Kowalski", ["care_manager"]),
    ("cm.adeyemi", "Tunde", "Adeyemi", ["care_manager"]),
]

GIVEN = [
    "Alex",
    "Sam",
    "Jordan",
    "Taylor",
    "Morgan",
    "Riley",
    "Casey",
    "Jamie",
    "Robin",
    "Avery",
    "Noah",
    "Mia",
    "Liam",
    "Zoe",
    "Omar",
    "Priya",
    "Hana",
    "Lucas",
    "Elena",
    "Kofi",
]
FAMILY = [
    "Andersen",
    "Baker",
    "Chen",
    "Duarte",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Murphy",
    "Novak",
    "Osei",
    "Park",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
]
DIAGNOSES = [
    [{"code": "F32.1", "description": "Major depressive disorder, single episode, moderate"}],
    [
        {"code": "F33.1", "description": "Major depressive disorder, recurrent, moderate"},
        {"code": "F41.1", "description": "Generalized anxiety disorder"},
    ],
    [{"code": "F41.1", "description": "Generalized anxiety disorder"}],
    [{"code": "F31.81", "description": "Bipolar II disorder"}],
    [{"code": "F43.10", "description": "Post-traumatic stress disorder, unspecified"}],
    [{"code": "F20.9", "description": "Schizophrenia, unspecified"}],
]
GOALS = [
    (GoalDomain.SYMPTOM, "Reduce depressive symptoms", "PHQ-9 below 5"),
    (GoalDomain.SYMPTOM, "Fewer days lost to worry", "GAD-7 below 10"),
    (GoalDomain.FUNCTIONING, "Return to work", "Working 3 days a week"),
    (GoalDomain.FUNCTIONING, "Re-engage with friends", "One social activity a week"),
    (GoalDomain.LIFESTYLE, "Regular sleep schedule", "In bed by 23:00 five nights a week"),
    (GoalDomain.LIFESTYLE, "Walk most days", "30 minutes, 5 days a week"),
]


class Command(BaseCommand):
    help = "Seed a synthetic demo clinic (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=40, help="How many demo patients (default 40).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for repeatable data.")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DEBUG off (never on a real clinic's database).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError("Refusing to seed demo accounts with DEBUG off (use --allow-production).")
        rng = random.Random(options["seed"])  # noqa: S311  (synthetic demo data, not security)
        staff = self._staff()
        created = [self._patient(number, staff, rng) for number in range(1, options["patients"] + 1)]
        clinic = DemoClinic(staff=staff, patients=[p for p in created if p is not None], rng=rng)
        for seeder in demo_seeders():
            seeder(clinic)
        self.stdout.write(
            f"Demo clinic ready: {len(staff)} staff, {Patient.objects.count()} patients "
            f"({len(clinic.patients)} new). Password for every demo login: {DEMO_PASSWORD}"
        )

    def _staff(self) -> dict[str, User]:
        staff = {}
        for username, first, last, roles in STAFF:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username, first_name=first, last_name=last, email=f"{username}@demo.tandem.invalid"
                )
                user.set_roles(roles)
                user.set_password(DEMO_PASSWORD)
                user.save()
            staff[username] = user
        return staff

    @transaction.atomic
    def _patient(self, number: int, staff: dict[str, User], rng: random.Random) -> Patient | None:
        mrn = f"DEMO-{number:05d}"
        if Patient.objects.filter(mrn=mrn).exists():
            return None
        prescribers = [u for u in staff.values() if u.is_prescriber]
        therapists = [u for u in staff.values() if u.is_therapist]
        care_managers = [u for u in staff.values() if u.is_care_manager]
        care_manager = rng.choice(care_managers)
        today = timezone.localdate()
        patient = services.patient_create(
            actor=care_manager,
            mrn=mrn,
            given_name=rng.choice(GIVEN),
            family_name=rng.choice(FAMILY),
            birth_date=date(today.year - rng.randint(19, 75), rng.randint(1, 12), rng.randint(1, 28)),
        )
        services.care_team_member_add(
            patient=patient, user=rng.choice(prescribers), role=TeamRole.PRESCRIBER, actor=care_manager
        )
        therapist = rng.choice(therapists)
        services.care_team_member_add(patient=patient, user=therapist, role=TeamRole.THERAPIST, actor=care_manager)
        plan = services.care_plan_create(
            patient=patient,
            actor=care_manager,
            status=CarePlanStatus.ACTIVE,
            summary="Shared formulation agreed at intake: low mood with anxiety after job loss; "
            "plan combines medication review with weekly CBT.",
            diagnoses=rng.choice(DIAGNOSES),
            review_date=today + timedelta(days=rng.randint(-10, 90)),
        )
        for domain, description, target in rng.sample(GOALS, 2):
            services.goal_create(
                care_plan=plan,
                actor=therapist,
                domain=domain,
                description=description,
                target=target,
                due_date=today + timedelta(weeks=rng.randint(4, 20)),
                status=rng.choice([GoalStatus.PROPOSED, GoalStatus.ACTIVE]),
            )
        return patient
