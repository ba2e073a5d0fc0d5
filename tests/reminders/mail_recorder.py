"""A stand-in for the SMTP server used by the real-worker tests: every accepted message is
appended to a file as one JSON line and fsynced, so a killed worker cannot un-send it.

Set by environment (the worker is another process):
  TANDEM_TEST_MAIL_LOG     the file to append to
  TANDEM_TEST_SMTP_DELAY   seconds each message takes "on the wire" before it is accepted;
                           while it waits, `<log>.inflight` names the recipient
"""

import json
import os
import time
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


def _append(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


class DurableRecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        log = os.environ["TANDEM_TEST_MAIL_LOG"]
        delay = float(os.environ.get("TANDEM_TEST_SMTP_DELAY", "0"))
        for message in email_messages:
            if delay:
                Path(log + ".inflight").write_text(",".join(message.to))
                time.sleep(delay)
            _append(
                log,
                json.dumps(
                    {
                        "to": message.to,
                        "subject": message.subject,
                        "body": message.body,
                        "pid": os.getpid(),
                        "at": time.time(),
                    }
                ),
            )
            if delay:
                Path(log + ".inflight").unlink(missing_ok=True)
        return len(email_messages)


def recorded(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
