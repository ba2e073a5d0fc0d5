"""Creating, e-mailing, revoking and opening patient links (issue 17 item 1, Security).

Every creation, use, failure and revocation writes an audit row; audit rows and e-mails never
carry the token, a name, a score or the clinic's details.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from careplans.models import Patient
from clinic.access import Action, require
from clinic.audit import audit_record
from clinic.models import AuditAction, AuditOutcome, User
from outcomes.instruments import INSTRUMENTS
from patient_portal.models import LinkPurpose, LinkState, PatientLink, PortalSettings
from patient_portal.tokens import token_hash, token_new, window_hit

LINK_OBJECT = PatientLink._meta.label_lower

# Who may send which link: questionnaires go with entering them; check-ins and the take-home plan
# are part of the shared care plan.
PURPOSE_ACTION = {
    LinkPurpose.QUESTIONNAIRE: Action.ENTER_ASSESSMENT,
    LinkPurpose.CHECK_IN: Action.EDIT_CARE_PLAN,
    LinkPurpose.TAKE_HOME: Action.EDIT_CARE_PLAN,
}

GONE_MESSAGES = {
    LinkState.USED: "This link has already been used. Each link works once. Ask your care team for a new one.",
    LinkState.EXPIRED: "This link has expired. Ask your care team for a new one.",
    LinkState.REVOKED: "This link is no longer active. Ask your care team for a new one.",
}
NOT_FOUND_MESSAGE = "This link is not valid. Check that you copied all of it, or ask your care team for a new one."
THROTTLED_MESSAGE = "Too many attempts from this device. Please wait a minute and try again."

EMAIL_SUBJECT = {
    LinkPurpose.QUESTIONNAIRE: "A short questionnaire for you",
    LinkPurpose.CHECK_IN: "Your check-in",
    LinkPurpose.TAKE_HOME: "Your plan",
}


@dataclass(frozen=True)
class CreatedLink:
    link: PatientLink
    token: str  # shown once: the only place the token exists in clear

    @property
    def path(self) -> str:
        return reverse("patient_portal_public:open", kwargs={"token": self.token})

    @property
    def url(self) -> str:
        return settings.SITE_URL.rstrip("/") + self.path


class LinkGone(Exception):
    """An expired, used or revoked link: 410 with a plain message."""

    def __init__(self, state: str) -> None:
        super().__init__(GONE_MESSAGES[LinkState(state)])
        self.state = state


class LinkNotFound(Exception):
    pass


class LinkThrottled(Exception):
    pass


@transaction.atomic
def link_create(
    *,
    patient: Patient,
    actor: User,
    purpose: str,
    instrument: str = "",
    days: int | None = None,
    email: bool = False,
    schedule=None,  # type: ignore[no-untyped-def]
) -> CreatedLink:
    """A new link for the patient. Rate-limited per patient (`PORTAL_LINKS_PER_PATIENT`)."""
    purpose = LinkPurpose(purpose)
    require(actor, PURPOSE_ACTION[purpose])
    if purpose == LinkPurpose.QUESTIONNAIRE:
        if instrument not in INSTRUMENTS:
            raise ValidationError({"instrument": [f"Choose one of {', '.join(INSTRUMENTS)}."]})
    else:
        instrument = ""
    clinic = PortalSettings.current()
    days = days or clinic.link_days
    if not 1 <= days <= 90:
        raise ValidationError({"days": ["A link can be valid for 1 to 90 days."]})
    if email and not patient.email:
        raise ValidationError({"email": ["This patient has no e-mail address on record."]})
    limit, seconds = settings.PORTAL_LINKS_PER_PATIENT
    if not window_hit(f"portal:create:{patient.public_id}", limit, seconds):
        raise ValidationError({"__all__": ["Too many links for this patient in the last hour; try again later."]})
    token, hashed = token_new()
    link = PatientLink.objects.create(
        patient=patient,
        purpose=purpose,
        instrument=instrument,
        token_hash=hashed,
        expires_at=timezone.now() + timedelta(days=days),
        created_by=actor,
        schedule=schedule,
    )
    created = CreatedLink(link=link, token=token)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=link,
        patient_id=patient.public_id,
        changes={
            "purpose": [None, purpose.value],
            "instrument": [None, instrument],
            "expires_at": [None, link.expires_at.isoformat()],
            "emailed": [None, email],
        },
    )
    if email:
        link.emailed_at = timezone.now()
        link.save(update_fields=["emailed_at", "updated_at"])
        address, url, expires = patient.email, created.url, link.expires_at
        transaction.on_commit(lambda: _send(address, purpose, url, expires))
    return created


def _send(address: str, purpose: str, url: str, expires) -> None:  # type: ignore[no-untyped-def]
    """Nothing but the link and its expiry: no name, score or clinic detail (issue 17; DESIGN.md e-mails)."""
    once = "" if purpose == LinkPurpose.TAKE_HOME else " It works once."
    body = (
        f"You have been sent a link by your care team.\n\n{url}\n\n"
        f"The link expires on {timezone.localtime(expires):%d %B %Y}.{once}\n"
        "If you did not expect this message, you can ignore it.\n"
    )
    EmailMessage(EMAIL_SUBJECT[LinkPurpose(purpose)], body, settings.DEFAULT_FROM_EMAIL, [address]).send()


@transaction.atomic
def link_revoke(*, link: PatientLink, actor: User) -> PatientLink:
    require(actor, PURPOSE_ACTION[LinkPurpose(link.purpose)])
    link = PatientLink.objects.select_for_update().get(pk=link.pk)
    before = link.state()
    if before in (LinkState.REVOKED, LinkState.USED):
        raise ValidationError({"__all__": [f"This link is already {LinkState(before).label.lower()}."]})
    link.revoked_at, link.revoked_by = timezone.now(), actor
    link.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=link,
        patient_id=link.patient.public_id,
        changes={"state": [before, LinkState.REVOKED.value]},
    )
    return link


def _client_key(address: str | None) -> str:
    return f"portal:open:{address or 'unknown'}"


def link_resolve(token: str, *, address: str | None = None) -> PatientLink:
    """The open link for `token`, or LinkThrottled / LinkNotFound / LinkGone, each failure audited
    in its own transaction (never with the token)."""
    limit, seconds = settings.PORTAL_OPEN_RATE
    if not window_hit(_client_key(address), limit, seconds):
        audit_failure(None, "throttled")
        raise LinkThrottled
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        audit_failure(None, "not_found")
        raise LinkNotFound
    link = PatientLink.objects.select_related("patient", "created_by").filter(token_hash=token_hash(token)).first()
    if link is None:
        audit_failure(None, "not_found")
        raise LinkNotFound
    state = link.state()
    if state != LinkState.OPEN:
        audit_failure(link, state)
        raise LinkGone(state)
    return link


def audit_failure(link: PatientLink | None, reason: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=None,
            action=AuditAction.ACCESS_DENIED,
            object_type=LINK_OBJECT,
            object_id=str(link.public_id) if link else "unknown",
            patient_id=link.patient.public_id if link else None,
            outcome=AuditOutcome.DENIED,
            changes={"reason": [None, reason]},
        )


def link_opened(link: PatientLink) -> None:
    """The patient opened the page (a read; a take-home plan can be opened until it expires)."""
    with transaction.atomic():
        audit_record(actor=None, action=AuditAction.READ, obj=link, patient_id=link.patient.public_id)


def link_mark_used(link: PatientLink, *, what: str, record_id: str) -> None:
    """Inside the submit's transaction, with the row locked by link_resolve(lock=True)."""
    link.used_at = timezone.now()
    link.save(update_fields=["used_at", "updated_at"])
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        obj=link,
        patient_id=link.patient.public_id,
        changes={"state": [LinkState.OPEN.value, LinkState.USED.value], what: [None, record_id]},
    )


def links_of(patient: Patient) -> list[PatientLink]:
    return list(PatientLink.objects.filter(patient=patient).select_related("created_by")[:50])
