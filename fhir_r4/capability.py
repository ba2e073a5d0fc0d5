"""The CapabilityStatement served at `/fhir/R4/metadata`."""

from typing import Any

from django.utils import timezone
from fhir.resources.R4B.capabilitystatement import CapabilityStatement


def capability_statement(base_url: str) -> CapabilityStatement:
    def resource(kind: str, params: list[tuple[str, str]], ops: list[str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": kind,
            "interaction": [{"code": "search-type"}] + ([{"code": "read"}] if kind == "Patient" else []),
            "searchParam": [{"name": n, "type": t} for n, t in params] or None,
        }
        if ops:
            out["operation"] = [
                {"name": op, "definition": f"http://hl7.org/fhir/OperationDefinition/{kind}-{op}"} for op in ops
            ]
        return out

    return CapabilityStatement.model_validate(
        dict(
            status="active",
            date=timezone.now(),
            kind="instance",
            software={"name": "Tandem"},
            implementation={"description": "Tandem FHIR R4 endpoint", "url": base_url},
            fhirVersion="4.0.1",
            format=["application/fhir+json", "json"],
            rest=[
                {
                    "mode": "server",
                    "security": {"description": "Token (`Authorization: Token ...`) or session; care-team visibility."},
                    "resource": [
                        resource("Patient", [("identifier", "token")], ["everything"]),
                        resource("Observation", [("patient", "reference"), ("code", "token")]),
                        resource("MedicationRequest", [("patient", "reference")]),
                    ],
                    "interaction": [{"code": "transaction"}],
                    "operation": [
                        {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}
                    ],
                }
            ],
        )
    )
