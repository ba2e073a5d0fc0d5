"""FHIR R4 endpoints (issue 18; DESIGN.md API contract): `/fhir/R4/...`.

Thin DRF views over `fhir.builders` (out), `fhir.imports` (in) and `fhir.bulk` ($export).
Access goes through the one path: the patient a URL or a search names is resolved with
`visible_or_404(patients_in_scope(user))` (an audited 404 for anyone off the care team, clinic
admins included), and `$export` needs the clinic admin's `RUN_REPORTS` (`require`, 403).
Every error is an OperationOutcome. Not in the OpenAPI schema (FHIR has its own contract:
the CapabilityStatement at `/fhir/R4/metadata`).
"""

import json
import logging
import uuid
from typing import Any, NoReturn

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.utils import extend_schema
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework import exceptions, renderers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.access import Action, patients_in_scope, require, visible_or_404
from clinic.audit import audit_record
from clinic.models import AuditAction, User
from fhir_r4 import builders, capability, codes

logger = logging.getLogger("fhir")

FHIR_JSON = "application/fhir+json"


class FhirJSONRenderer(renderers.JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class FhirJSONParser(JSONParser):
    media_type = FHIR_JSON


class FhirError(Exception):
    """An error answered as an OperationOutcome with this status, code and text."""

    def __init__(self, status: int, code: str, text: str, expression: str | None = None) -> None:
        super().__init__(text)
        self.status, self.code, self.text, self.expression = status, code, text, expression


def outcome(code: str, text: str, *, severity: str = "error", expression: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": text}
    if expression:
        issue["expression"] = [expression]
    return json.loads(
        OperationOutcome.model_validate({"issue": [issue]}).model_dump_json(by_alias=True, exclude_none=True)
    )


def _answer(status: int, code: str, text: str, expression: str | None = None) -> Response:
    return Response(outcome(code, text, expression=expression), status=status, content_type=FHIR_JSON)


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, FhirError):
        return _answer(exc.status, exc.code, exc.text, exc.expression)
    if isinstance(exc, Http404 | exceptions.NotFound):
        return _answer(404, "not-found", "Not found.")
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return _answer(401, "login", "Sign in or send a valid API token.")
    if isinstance(exc, DjangoPermissionDenied | exceptions.PermissionDenied):
        return _answer(403, "forbidden", str(exc) or "Your role may not do this.")
    if isinstance(exc, DjangoValidationError):
        return _answer(400, "invalid", "; ".join(exc.messages))
    if isinstance(exc, exceptions.MethodNotAllowed):
        return _answer(405, "not-supported", str(exc.detail))
    if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
        return _answer(400, "structure", str(exc.detail))
    if isinstance(exc, exceptions.Throttled):
        return _answer(429, "throttled", str(exc.detail))
    if isinstance(exc, exceptions.APIException):
        return _answer(exc.status_code, "processing", str(exc.detail))
    error_id = uuid.uuid4().hex
    logger.exception("FHIR request failed: error_id=%s", error_id)
    return _answer(500, "exception", f"Unexpected error (error id {error_id}).")


def base_url(request: Request) -> str:
    return request.build_absolute_uri("/fhir/R4/")


def fhir_response(resource: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = (
        json.loads(resource.model_dump_json(by_alias=True, exclude_none=True))
        if hasattr(resource, "model_dump_json")
        else resource
    )
    return Response(body, status=status, content_type=FHIR_JSON, headers=headers)


@extend_schema(exclude=True)
class FhirView(APIView):
    renderer_classes = [FhirJSONRenderer, renderers.JSONRenderer]
    parser_classes = [FhirJSONParser, JSONParser]
    fhir_route = True  # tests/clinic/test_access_path.py walks every FHIR route

    def get_exception_handler(self) -> Any:
        return fhir_exception_handler

    def permission_denied(self, request: Request, message: str | None = None, code: str | None = None) -> NoReturn:
        if request.authenticators and not request.successful_authenticator:
            raise exceptions.NotAuthenticated()
        raise exceptions.PermissionDenied(detail=message, code=code)

    @property
    def user(self) -> User:
        user = self.request.user
        assert isinstance(user, User)
        return user

    def clinical_patient(self, public_id: str) -> Any:
        """The patient, if on the caller's care team (clinical scope); else an audited 404."""
        return visible_or_404(patients_in_scope(self.user), user=self.user, public_id=public_id)


class MetadataView(FhirView):
    """The CapabilityStatement (open to any signed-in user, as it names no patient)."""

    def get(self, request: Request) -> Response:
        return fhir_response(capability.capability_statement(base_url(request)))


class PatientEverythingView(FhirView):
    def get(self, request: Request, patient_id: str) -> Response:
        patient = self.clinical_patient(patient_id)
        bundle = builders.everything(patient, base_url=base_url(request))
        counts = builders.resource_counts(bundle)
        audit_record(
            actor=self.user,
            action=AuditAction.EXPORT,
            object_type="fhir.everything",
            object_id=str(patient.public_id),
            patient_id=patient.public_id,
            changes={"format": "fhir", "resources": counts},
        )
        return fhir_response(bundle)


class PatientReadView(FhirView):
    def get(self, request: Request, patient_id: str) -> Response:
        patient = self.clinical_patient(patient_id)
        audit_record(actor=self.user, action=AuditAction.READ, obj=patient, patient_id=patient.public_id)
        return fhir_response(builders.patient_resource(patient))


def _token(value: str, system: str) -> str:
    """`system|code` or `code`; a different system matches nothing."""
    if "|" in value:
        given, _, code = value.partition("|")
        return code if given in ("", system) else ""
    return value


class PatientSearchView(FhirView):
    def get(self, request: Request) -> Response:
        identifier = request.query_params.get("identifier", "")
        if not identifier:
            raise FhirError(400, "required", "Search Patient by identifier (the MRN).", "Patient.identifier")
        mrn = _token(identifier, codes.MRN_SYSTEM)
        patients = list(patients_in_scope(self.user).filter(mrn=mrn)) if mrn else []
        audit_record(
            actor=self.user,
            action=AuditAction.SEARCH,
            object_type="fhir.patient",
            object_id="identifier",
            changes={"matches": [str(p.public_id) for p in patients]},
        )
        resources = [builders.patient_resource(p) for p in patients]
        return fhir_response(builders.bundle_of(resources, base_url=base_url(request)))


class _PatientScopedSearch(FhirView):
    resource_type = ""

    def patient_from_query(self, request: Request) -> Any:
        value = request.query_params.get("patient", "") or request.query_params.get("subject", "")
        if not value:
            raise FhirError(
                400, "required", f"Search {self.resource_type} by patient.", f"{self.resource_type}.subject"
            )
        return self.clinical_patient(value.removeprefix("Patient/"))

    def answer(self, request: Request, patient: Any, resources: list[Any]) -> Response:
        audit_record(
            actor=self.user,
            action=AuditAction.SEARCH,
            object_type=f"fhir.{self.resource_type.lower()}",
            object_id=str(patient.public_id),
            patient_id=patient.public_id,
            changes={"matches": len(resources)},
        )
        return fhir_response(builders.bundle_of(resources, base_url=base_url(request)))


def _codes_of(resource: Any) -> set[str]:
    return {str(c.code) for c in (resource.code.coding or [])}


class ObservationSearchView(_PatientScopedSearch):
    resource_type = "Observation"

    def get(self, request: Request) -> Response:
        patient = self.patient_from_query(request)
        record = builders.record_of(patient)
        wanted = {_token(c, codes.LOINC) for c in request.query_params.get("code", "").split(",") if c}
        wanted |= {c.partition("|")[2] for c in request.query_params.get("code", "").split(",") if "|" in c}
        resources = [
            r
            for r in builders.resources_of(record)
            if r.get_resource_type() == "Observation" and (not wanted or _codes_of(r) & wanted)
        ]
        return self.answer(request, patient, resources)


class MedicationRequestSearchView(_PatientScopedSearch):
    resource_type = "MedicationRequest"

    def get(self, request: Request) -> Response:
        patient = self.patient_from_query(request)
        resources = [
            r
            for r in builders.resources_of(builders.record_of(patient))
            if r.get_resource_type() == "MedicationRequest"
        ]
        return self.answer(request, patient, resources)


class TransactionView(FhirView):
    """`POST /fhir/R4/`: a transaction Bundle of Patient + MedicationRequest (+ Observation)."""

    def post(self, request: Request) -> Response:
        from fhir_r4 import imports  # the importer reads the medications services

        result = imports.transaction_import(user=self.user, payload=request.data, base_url=base_url(request))
        return fhir_response(result)


class ExportKickoffView(FhirView):
    def get(self, request: Request) -> Response:
        from fhir_r4 import bulk

        require(self.user, Action.RUN_REPORTS, object_type="fhir.export", object_id="$export")
        if request.headers.get("Prefer", "").replace(" ", "") != "respond-async":
            raise FhirError(400, "invalid", "Send `Prefer: respond-async` (FHIR Bulk Data kick-off).")
        export = bulk.export_request(user=self.user, types=request.query_params.get("_type", ""))
        status_url = request.build_absolute_uri(f"/fhir/R4/$export-status/{export.public_id}")
        return Response(status=202, headers={"Content-Location": status_url})


class ExportStatusView(FhirView):
    def get(self, request: Request, export_id: str) -> Response:
        from fhir_r4 import bulk

        export = bulk.export_for(user=self.user, public_id=export_id)
        state = bulk.export_state(export)
        if state == "pending":
            return Response(status=202, headers={"X-Progress": f"{export.progress}%", "Retry-After": "2"})
        if state == "expired":
            raise FhirError(410, "not-found", "This export has expired; start a new one.")
        if state == "failed":
            raise FhirError(500, "exception", export.error or "The export failed.")
        return Response(bulk.manifest(export, request), status=200, content_type="application/json")

    def delete(self, request: Request, export_id: str) -> Response:
        from fhir_r4 import bulk

        export = bulk.export_for(user=self.user, public_id=export_id)
        bulk.export_delete(user=self.user, export=export)
        return Response(status=202)


class ExportFileView(FhirView):
    def get(self, request: Request, export_id: str, name: str) -> HttpResponse:
        from fhir_r4 import bulk

        export = bulk.export_for(user=self.user, public_id=export_id)
        if bulk.export_state(export) == "expired":
            raise FhirError(410, "not-found", "This export has expired; start a new one.")
        content = bulk.export_file(user=self.user, export=export, name=name)
        return HttpResponse(content, content_type="application/fhir+ndjson")
