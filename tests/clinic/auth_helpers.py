"""Second-factor helpers for the auth tests (issue 13)."""

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODE = "recoverycode01"


def enrol(user, *, recovery: bool = True) -> TOTPDevice:  # type: ignore[no-untyped-def]
    """A confirmed authenticator (and one recovery code) for `user`."""
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    if recovery:
        static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
        StaticToken.objects.create(device=static, token=RECOVERY_CODE)
    return device


def code_for(device: TOTPDevice, *, at: float | None = None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at if at is not None else time.time()
    return f"{totp.token():0{device.digits}d}"
