"""Cross-cutting models: the user with roles, the audit trail, shared base classes."""

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from clinic.validators import validate_clean_identifier


class Role(models.TextChoices):
    PRESCRIBER = "prescriber", "Prescriber"
    THERAPIST = "therapist", "Therapist"
    CARE_MANAGER = "care_manager", "Care manager"
    CLINIC_ADMIN = "clinic_admin", "Clinic admin"


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class PublicIdModel(TimeStampedModel):
    """Objects are addressed by a random UUID in URLs and the API, never by pk (DP-1)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        abstract = True


class HardDeleteRefused(Exception):
    """Clinical rows are marked entered-in-error, never deleted (SECURITY.md CC-3)."""


class ClinicalQuerySet(models.QuerySet):
    def delete(self) -> Any:
        raise HardDeleteRefused(f"{self.model.__name__} rows are never deleted")


class CurrentRecordManager(models.Manager.from_queryset(ClinicalQuerySet)):  # type: ignore[misc]
    """Hides rows entered in error; `all_records` still reaches them."""

    def get_queryset(self) -> ClinicalQuerySet:
        return super().get_queryset().filter(entered_in_error_at__isnull=True)


class ClinicalRecord(PublicIdModel):
    """A clinical row: never hard-deleted, only marked entered-in-error with who/when/why."""

    entered_in_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_in_error_reason = models.CharField(max_length=500, blank=True, editable=False)

    objects = CurrentRecordManager()
    all_records = models.Manager.from_queryset(ClinicalQuerySet)()

    class Meta:
        abstract = True
        base_manager_name = "all_records"

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise HardDeleteRefused(f"{type(self).__name__} rows are never deleted")


class User(AbstractUser):
    """Staff account. A user may hold several roles (a psychiatrist who also does therapy)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Staff names show on every chart and in exports: visible characters only (issue 12 item 8).
    first_name = models.CharField("first name", max_length=150, blank=True, validators=[validate_clean_identifier])
    last_name = models.CharField("last name", max_length=150, blank=True, validators=[validate_clean_identifier])
    is_prescriber = models.BooleanField(default=False)
    is_therapist = models.BooleanField(default=False)
    is_care_manager = models.BooleanField(default=False)
    is_clinic_admin = models.BooleanField(default=False)
    # Bumped to end every session of the user at once (password, role or MFA change,
    # deactivation): it is part of the session hash Django checks on every request.
    auth_generation = models.PositiveIntegerField(default=0, editable=False)

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def roles(self) -> list[str]:
        """The user's roles; a Django superuser counts as a clinic admin (DESIGN.md)."""
        flags = {
            Role.PRESCRIBER: self.is_prescriber,
            Role.THERAPIST: self.is_therapist,
            Role.CARE_MANAGER: self.is_care_manager,
            Role.CLINIC_ADMIN: self.is_clinic_admin or self.is_superuser,
        }
        return [role.value for role, held in flags.items() if held]

    def set_roles(self, roles: list[str]) -> None:
        self.is_prescriber = Role.PRESCRIBER in roles
        self.is_therapist = Role.THERAPIST in roles
        self.is_care_manager = Role.CARE_MANAGER in roles
        self.is_clinic_admin = Role.CLINIC_ADMIN in roles

    @property
    def is_clinician(self) -> bool:
        return self.is_prescriber or self.is_therapist or self.is_care_manager

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django's own hash covers the password only; ours also covers `auth_generation`.
        key_salt = "clinic.models.User.get_session_auth_hash"
        value = f"{self.password}:{self.auth_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()


class HeldForm(models.Model):
    """What a user typed into a form they posted after their session had ended (issue 13).

    Kept server-side (the browser's storage never holds it), for that user only, briefly:
    the form is filled in again once the same user signs in, then the row is gone."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=300)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"held form {self.public_id}"


class AuditAction(models.TextChoices):
    CREATE = "create"
    READ = "read"
    SEARCH = "search"
    UPDATE = "update"
    ENTER_IN_ERROR = "enter_in_error"
    EXPORT = "export"
    PRINT = "print"
    LOGIN = "login"
    LOGOUT = "logout"
    LOGIN_FAILED = "login_failed"
    ACCESS_DENIED = "access_denied"
    REVOKE = "revoke"  # tokens and sessions ended
    MFA_ENROL = "mfa_enrol"
    MFA_RESET = "mfa_reset"
    PASSWORD_CHANGE = "password_change"  # noqa: S105  (an audit action name)
    PASSWORD_RESET = "password_reset"  # noqa: S105  (link requested by the user or an admin, or used)
    RESEAL = "reseal"  # the chain was re-sealed (redaction migration, key change); carries the old head
    BULK_READ_ALARM = "bulk_read_alarm"  # one user opened many patients' records in an hour


class AuditOutcome(models.TextChoices):
    SUCCESS = "success"
    DENIED = "denied"
    ERROR = "error"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit trail is append-only")

    def seal(self, *, seq: int, prev_hash: str, hash: str) -> int:
        """Set a row's seal, once: the sealer's only write (the PostgreSQL trigger allows NULL -> value)."""
        return models.QuerySet.update(self.filter(hash__isnull=True), seq=seq, prev_hash=prev_hash, hash=hash)

    def delete(self) -> Any:
        raise PermissionError("The audit trail is append-only")


class AuditEvent(models.Model):
    """One append-only, hash-chained audit row (SECURITY.md AL-1, AL-2, audit event content).

    Holds ids only, never names, notes or scores: free text is redacted to a keyed hash by
    `clinic.audit` before the row is written. `patient_id` is the patient's public UUID:
    `clinic` may not import `careplans`, so it is not a foreign key.

    A request inserts the row unsealed (`seq`, `hash` NULL; no lock); the sealer chains
    rows in order soon after, setting `seq`, `prev_hash` and `hash` once (issue 14).
    """

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_roles = models.JSONField(default=list)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.UUIDField(null=True, blank=True, db_index=True)
    outcome = models.CharField(max_length=10, choices=AuditOutcome.choices, default=AuditOutcome.SUCCESS)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # The seal: position in the chain (gapless from 1), previous hash, HMAC-SHA256 of this row.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, null=True, blank=True, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            # The sealer's queue: unsealed rows in id order (a small partial index on PostgreSQL).
            models.Index(fields=["id"], condition=models.Q(hash__isnull=True), name="clinic_audit_unsealed"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=AuditAction.values), name="%(app_label)s_%(class)s_action_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=AuditOutcome.values), name="%(app_label)s_%(class)s_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"audit #{self.pk} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("The audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("The audit trail is append-only")


class AuditChainHead(models.Model):
    """Single row holding the sealed chain's head. Only the sealer locks it (never a request),
    so sealing runs one at a time and the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    last_seq = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="%(app_label)s_%(class)s_singleton")]

    def __str__(self) -> str:
        return "audit chain head"
