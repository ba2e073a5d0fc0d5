"""Demo-data seeders. `seed_demo` seeds staff, patients and care plans, then calls each
app's registered seeder, so `careplans` never imports the apps that add their own data."""

import random
from collections.abc import Callable
from dataclasses import dataclass

from careplans.models import Patient
from clinic.models import User


@dataclass
class DemoClinic:
    staff: dict[str, User]  # username -> user
    patients: list[Patient]  # the patients this run created (empty on a re-run)
    rng: random.Random


Seeder = Callable[[DemoClinic], None]
_SEEDERS: list[tuple[int, Seeder]] = []


def demo_seeder_register(seeder: Seeder, *, order: int = 50) -> None:
    if all(existing is not seeder for _, existing in _SEEDERS):
        _SEEDERS.append((order, seeder))


def demo_seeders() -> list[Seeder]:
    return [seeder for _, seeder in sorted(_SEEDERS, key=lambda pair: pair[0])]
