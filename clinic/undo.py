"""Undo for one-click actions (issue 16 item 9: "End membership" and "Mark done" acted at once).

The action still happens at once (access ends on the next request, AC-6); for a short while after,
the person who did it can take it back. The offer is shown only on the page that answers the
action, so it is gone after a reload; the window is enforced on the server as well.
"""

from datetime import datetime, timedelta

from django.utils import timezone

UNDO_WINDOW = timedelta(minutes=5)


def within_undo_window(done_at: datetime | None) -> bool:
    return done_at is not None and timezone.now() - done_at <= UNDO_WINDOW
