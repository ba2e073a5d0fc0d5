"""One exception handler for the API (STYLE.md rule 10).

- Django ValidationError from a service -> 400 with field errors keyed by field.
- StaleVersionError -> 409 with the record's current state, so the client can merge.
- Anything unexpected -> 500 with an error id only (SECURITY.md LG-3), logged by id.
"""

import logging
import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from clinic.concurrency import StaleVersionError

logger = logging.getLogger(__name__)


def validation_error_detail(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): list(messages)
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": list(error.messages)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, StaleVersionError):
        view = context.get("view")
        current = view.get_serializer(exc.current).data if view is not None else None
        return Response(
            {"detail": str(exc), "code": "stale_version", "current": current},
            status=status.HTTP_409_CONFLICT,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        error_id = uuid.uuid4().hex[:12]
        logger.exception("unhandled API error id=%s type=%s", error_id, type(exc).__name__)
        return Response({"detail": "Internal error.", "error_id": error_id}, status=500)
    return response
