"""Staff accounts: created and changed by clinic admins only, always audited."""

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from clinic.access import SELF_ROLE_CHANGE_MESSAGE, require_not_self
from clinic.access_notices import ACCESS_CHANGE, AccessNotice, access_notice_send
from clinic.audit import audit_record, diff, snapshot
from clinic.credentials import credentials_revoke
from clinic.models import AuditAction, AuditEvent, Role, User

USER_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "is_prescriber",
    "is_therapist",
    "is_care_manager",
    "is_clinic_admin",
)


def _role_labels(roles: list[str]) -> str:
    return ", ".join(Role(role).label.lower() for role in roles) or "none"


def roles_changed_announce(*, user: User, actor: User, before: list[str], event: AuditEvent) -> None:
    """Tell the other clinic admins that `user`'s roles changed (issue 12 item 1): names and
    role names only. `event` is the audit row of the change; the inbox item points at it."""
    after = user.roles
    if sorted(before) == sorted(after):
        return
    added = [role for role in after if role not in before]
    removed = [role for role in before if role not in after]
    parts = ([f"granted {_role_labels(added)}"] if added else []) + (
        [f"removed {_role_labels(removed)}"] if removed else []
    )
    access_notice_send(
        AccessNotice(
            kind=ACCESS_CHANGE,
            actor=actor,
            summary=f"Roles of {user} changed by {actor}: {'; '.join(parts)}.",
            subject_type="clinic.auditevent",
            subject_id=str(event.pk),
        )
    )


def _clean_roles(roles: list[str]) -> list[str]:
    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        raise ValidationError({"roles": f"Unknown role: {', '.join(unknown)}."})
    if not roles:
        raise ValidationError({"roles": "Choose at least one role."})
    return roles


@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    roles: list[str],
    password: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_roles(_clean_roles(roles))
    if password:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        user.set_password(password)
    else:
        # The staff page sends a reset link instead: nobody but the user ever knows the password.
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    event = audit_record(
        actor=actor, action=AuditAction.CREATE, obj=user, changes=diff({}, snapshot(user, USER_FIELDS))
    )
    roles_changed_announce(user=user, actor=actor, before=[], event=event)
    return user


def user_update(*, user: User, actor: User, roles: list[str] | None = None, password: str = "", **changes: Any) -> User:
    if roles is not None and sorted(roles) != sorted(user.roles):
        # Separation of duties: a clinic admin (a superuser too) never changes its own roles.
        # Checked before the transaction, so the refusal's audit row stays.
        require_not_self(
            actor, user, SELF_ROLE_CHANGE_MESSAGE, object_type="clinic.user", object_id=str(user.public_id)
        )
    return _user_update(user=user, actor=actor, roles=roles, password=password, **changes)


@transaction.atomic
def _user_update(*, user: User, actor: User, roles: list[str] | None, password: str, **changes: Any) -> User:
    before = snapshot(user, USER_FIELDS)
    roles_before = list(user.roles)
    for name, value in changes.items():
        if name not in ("first_name", "last_name", "email", "is_active"):
            raise ValueError(f"{name} is not an editable user field")
        setattr(user, name, value)
    if roles is not None:
        user.set_roles(_clean_roles(roles))
    if password:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    changed = diff(before, snapshot(user, USER_FIELDS))
    if password:
        changed["password"] = ["", "changed"]
    event = audit_record(actor=actor, action=AuditAction.UPDATE, obj=user, changes=changed)
    roles_changed_announce(user=user, actor=actor, before=roles_before, event=event)
    # A new password, a deactivation or a role change ends every token and session (issue 13).
    reasons = [
        reason
        for reason, happened in (
            ("password set by clinic admin", bool(password)),
            ("deactivated", "is_active" in changed and not user.is_active),
            ("role change", any(name.startswith("is_") and name != "is_active" for name in changed)),
        )
        if happened
    ]
    if reasons:
        credentials_revoke(user=user, actor=actor, reason=", ".join(reasons))
    return user
