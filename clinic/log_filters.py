"""Log filter that neutralises CR/LF and other control characters (SECURITY.md LG-2).

A username like "x\\nFAKE ENTRY" must stay one log line.
"""

import logging

_CONTROL = {code: f"\\x{code:02x}" for code in range(32) if code != 9}
_CONTROL[127] = "\\x7f"


class EscapeControlCharacters(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = record.getMessage().translate(_CONTROL)
        record.args = None
        return True
