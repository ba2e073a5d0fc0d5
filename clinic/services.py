"""Staff accounts: created and changed by clinic admins only, always audited."""

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from clinic.audit import audit_record, diff, snapshot
from clinic.credentials import credentials_revoke
from clinic.models import AuditAction, Role, User

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
    audit_record(actor=actor, action=AuditAction.CREATE, obj=user, changes=diff({}, snapshot(user, USER_FIELDS)))
    return user


@transaction.atomic
def user_update(*, user: User, actor: User, roles: list[str] | None = None, password: str = "", **changes: Any) -> User:
    before = snapshot(user, USER_FIELDS)
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
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=user, changes=changed)
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
