from datetime import timedelta

from django.utils import timezone

from patient_portal import links
from patient_portal.models import PatientLink


def make_link(patient, user, purpose="questionnaire", instrument="PHQ-9", **kwargs):  # type: ignore[no-untyped-def]
    return links.link_create(
        patient=patient,
        actor=user,
        purpose=purpose,
        instrument=instrument if purpose == "questionnaire" else "",
        **kwargs,
    )


def expire(link: PatientLink) -> None:
    PatientLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]
