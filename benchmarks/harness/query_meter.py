"""Middleware the harness serves with: each response says how many SQL queries it ran and
how long they took (X-Bench-Queries, X-Bench-DB-ms), so one timed request gives both."""

import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse


class QueryMeterMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meter = {"queries": 0, "seconds": 0.0}

        def measure(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                meter["queries"] += 1
                meter["seconds"] += time.perf_counter() - started

        with connection.execute_wrapper(measure):
            response = self.get_response(request)
        if getattr(response, "streaming", False):
            return response  # counted only up to the first byte; the harness marks it
        response["X-Bench-Queries"] = str(meter["queries"])
        response["X-Bench-DB-ms"] = f"{meter['seconds'] * 1000:.1f}"
        return response
