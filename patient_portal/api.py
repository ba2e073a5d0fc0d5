"""REST API of patient links (issue 17; DESIGN.md API contract).

- POST /api/v1/patients/{id}/questionnaire-links/ {instrument, purpose?, days?, email?}
      -> 201 {id, url, instrument, purpose, expires_at, state}; the url (with its token) only here
  GET  same path: the patient's links without tokens; POST .../{link}/revoke/ -> the link, revoked
- GET/PATCH /api/v1/patients/{id}/safety-plan/ {version, warning_signs, ...}: 409 when stale
- GET/POST /api/v1/self-report/{token}/: the patient's side, no login (questionnaire items or the
  check-in fields; 201 on answers, 400 naming the item, 410 used/expired/revoked, 404 unknown)
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from careplans.models import Patient
from careplans.selectors import patient_for_clinical_use
from clinic.access import Action
from clinic.throttles import client_address
from clinic.viewsets import ClinicalViewSet
from outcomes.instruments import INSTRUMENTS, InstrumentCode
from patient_portal import links, safety_plans, selectors, submissions
from patient_portal.models import SAFETY_PLAN_FIELDS, LinkPurpose, PatientLink, SafetyPlan


class PatientLinkSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    purpose = serializers.ChoiceField(choices=LinkPurpose.choices, read_only=True)
    state = serializers.SerializerMethodField()
    emailed = serializers.SerializerMethodField()

    class Meta:
        model = PatientLink
        fields = [
            "id",
            "purpose",
            "instrument",
            "expires_at",
            "state",
            "emailed",
            "used_at",
            "revoked_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_state(self, obj: PatientLink) -> str:
        return obj.state()

    def get_emailed(self, obj: PatientLink) -> bool:
        return obj.emailed_at is not None


class CreatedLinkSerializer(PatientLinkSerializer):
    url = serializers.SerializerMethodField(help_text="Shown once: only its hash is stored.")

    class Meta(PatientLinkSerializer.Meta):
        fields = ["id", "url", *PatientLinkSerializer.Meta.fields[1:]]
        read_only_fields = fields

    def get_url(self, obj: PatientLink) -> str:
        return self.context["url"]


class LinkInputSerializer(serializers.Serializer):
    instrument = serializers.ChoiceField(choices=InstrumentCode.choices, required=False)
    purpose = serializers.ChoiceField(choices=LinkPurpose.choices, default=LinkPurpose.QUESTIONNAIRE)
    days = serializers.IntegerField(min_value=1, max_value=90, required=False, help_text="Default: the clinic's (7).")
    email = serializers.BooleanField(default=False, help_text="Also e-mail the link to the patient's address.")


class QuestionnaireLinkViewSet(mixins.ListModelMixin, ClinicalViewSet):
    """Links a patient opens without a login: a questionnaire, a check-in, or the take-home plan."""

    serializer_class = PatientLinkSerializer
    model = PatientLink
    write_action = Action.ENTER_ASSESSMENT
    filterset_class = None  # the patient is in the URL

    def resolve_parent(self) -> Patient:
        return patient_for_clinical_use(user=self.user, public_id=self.kwargs["patient_public_id"])

    def visible_queryset(self) -> QuerySet[PatientLink]:
        return selectors.links_visible_to(self.user).filter(
            patient__public_id=str(self.kwargs.get("patient_public_id", ""))
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.resolve_parent()  # 404 for a patient the caller may not see
        return super().list(request, *args, **kwargs)

    @extend_schema(request=LinkInputSerializer, responses={201: CreatedLinkSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.resolve_parent()
        given = LinkInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        if data["purpose"] == LinkPurpose.QUESTIONNAIRE and not data.get("instrument"):
            raise ValidationError({"instrument": ["Name the questionnaire: PHQ-9, GAD-7 or WSAS."]})
        created = links.link_create(
            patient=patient,
            actor=self.user,
            purpose=data["purpose"],
            instrument=data.get("instrument", ""),
            days=data.get("days"),
            email=data["email"],
        )
        body = CreatedLinkSerializer(created.link, context={"url": created.url}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: PatientLinkSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, patient_public_id: str, public_id: str) -> Response:
        link = links.link_revoke(link=self.get_object(), actor=self.user)
        return Response(PatientLinkSerializer(link).data)


# --- Safety plan -----------------------------------------------------------------------


class SafetyPlanSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="0 before the first save. Send back the version you read.")
    agreed_on = serializers.DateField(allow_null=True, required=False)
    updated_by = serializers.UUIDField(source="updated_by.public_id", read_only=True, allow_null=True, default=None)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True, default=None)
    last_reviewed_on = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name in SAFETY_PLAN_FIELDS:
            fields[name] = serializers.CharField(required=False, allow_blank=True, max_length=2000)
        return fields

    def get_last_reviewed_on(self, obj: SafetyPlan) -> str | None:
        day = safety_plans.last_reviewed_on(obj.patient)
        return day.isoformat() if day else None

    @extend_schema(responses=None)
    def get_history(self, obj: SafetyPlan) -> list[dict[str, Any]]:
        if obj.pk is None:
            return []
        return [
            {
                "version": v.version,
                "saved_by": str(v.saved_by.public_id),
                "saved_at": v.saved_at.isoformat(),
                "agreed_on": v.agreed_on.isoformat() if v.agreed_on else None,
            }
            for v in obj.versions.select_related("saved_by")[:20]
        ]


class SafetyPlanViewSet(ClinicalViewSet):
    """The patient's safety plan (Stanley–Brown's six steps, in the patient's words)."""

    serializer_class = SafetyPlanSerializer
    model = SafetyPlan
    filterset_class = None
    pagination_class = None
    action_roles = {"partial_update_plan": Action.EDIT_CARE_PLAN}

    def resolve_parent(self) -> Patient:
        return patient_for_clinical_use(user=self.user, public_id=self.kwargs["patient_public_id"])

    def visible_queryset(self) -> QuerySet[SafetyPlan]:
        return SafetyPlan.objects.none()  # reached through the patient only

    def _plan(self, patient: Patient) -> SafetyPlan:
        return safety_plans.safety_plan_of(patient) or SafetyPlan(patient=patient, version=0)

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:  # the 409 body shows the current plan
        return SafetyPlanSerializer(*args, **kwargs)

    @extend_schema(responses=SafetyPlanSerializer)
    def retrieve_plan(self, request: Request, patient_public_id: str) -> Response:
        return Response(SafetyPlanSerializer(self._plan(self.resolve_parent())).data)

    @extend_schema(
        request=SafetyPlanSerializer,
        responses={200: SafetyPlanSerializer, 409: OpenApiResponse(description="Stale version")},
    )
    def partial_update_plan(self, request: Request, patient_public_id: str) -> Response:
        patient = self.resolve_parent()
        given = SafetyPlanSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        if "version" not in request.data:
            raise ValidationError({"version": ["Send the version you read (0 before the first save)."]})
        data = given.validated_data
        current = safety_plans.safety_plan_of(patient)
        changes = {name: data.get(name, getattr(current, name, "") if current else "") for name in SAFETY_PLAN_FIELDS}
        agreed_on = data.get("agreed_on", current.agreed_on if current else None)
        plan = safety_plans.safety_plan_save(
            patient=patient, actor=self.user, version=data["version"], changes=changes, agreed_on=agreed_on
        )
        return Response(SafetyPlanSerializer(plan).data)


# --- The patient's side -----------------------------------------------------------------

SelfReportInput = inline_serializer(
    "SelfReportInput",
    {
        "responses": serializers.ListField(
            child=serializers.IntegerField(),
            required=False,
            help_text="A questionnaire link: one answer per item, in order.",
        ),
        "mood": serializers.IntegerField(required=False, min_value=0, max_value=10, help_text="A check-in link."),
        "sleep_hours": serializers.DecimalField(required=False, max_digits=3, decimal_places=1),
        "activity_minutes": serializers.IntegerField(required=False, min_value=0, max_value=1440),
        "medication_taken": serializers.ChoiceField(required=False, choices=["yes", "partly", "no", ""]),
        "note": serializers.CharField(required=False, allow_blank=True, max_length=1000),
    },
)
SelfReportResult = inline_serializer(
    "SelfReportResult",
    {
        "received": serializers.BooleanField(),
        "crisis_resources": serializers.ListField(
            child=serializers.CharField(), help_text="Shown at once when not empty."
        ),
    },
)
SelfReportForm = inline_serializer(
    "SelfReportForm",
    {
        "kind": serializers.ChoiceField(choices=["questionnaire", "check_in"]),
        "instrument": serializers.CharField(allow_blank=True),
        "preamble": serializers.CharField(allow_blank=True),
        "items": serializers.ListField(child=serializers.DictField()),
        "options": serializers.ListField(child=serializers.DictField()),
        "expires_at": serializers.DateTimeField(),
    },
)
Gone = OpenApiResponse(description="Used, expired or revoked: {detail} says which in plain words.")


class SelfReportView(APIView):
    """A patient answers from a link, without a login. The token is the only credential and opens
    this one form; nothing here names the patient."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def _failure(self, error: Exception) -> Response:
        if isinstance(error, links.LinkGone):
            return Response({"detail": str(error), "state": error.state}, status=status.HTTP_410_GONE)
        if isinstance(error, links.LinkThrottled):
            return Response({"detail": links.THROTTLED_MESSAGE}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        return Response({"detail": links.NOT_FOUND_MESSAGE}, status=status.HTTP_404_NOT_FOUND)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(responses={200: SelfReportForm, 404: OpenApiResponse(description="Unknown link"), 410: Gone})
    def get(self, request: Request, token: str) -> Response:
        try:
            link = links.link_resolve(token, address=client_address(request._request))
        except (links.LinkGone, links.LinkNotFound, links.LinkThrottled) as error:
            return self._failure(error)
        if link.purpose == LinkPurpose.TAKE_HOME:
            return self._failure(links.LinkNotFound())  # the plan is a page, not a form
        links.link_opened(link)
        if link.purpose == LinkPurpose.QUESTIONNAIRE:
            instrument = INSTRUMENTS[link.instrument]
            return Response(
                {
                    "kind": "questionnaire",
                    "instrument": instrument.code.value,
                    "preamble": instrument.preamble,
                    "items": [{"number": i.number, "text": i.text} for i in instrument.items],
                    "options": [{"value": o.value, "label": o.label} for o in instrument.options],
                    "expires_at": link.expires_at,
                }
            )
        return Response(
            {
                "kind": "check_in",
                "instrument": "",
                "preamble": "",
                "items": [],
                "options": [],
                "expires_at": link.expires_at,
            }
        )

    @extend_schema(
        request=SelfReportInput,
        responses={
            201: SelfReportResult,
            400: OpenApiResponse(description="Which item is wrong"),
            404: OpenApiResponse(description="Unknown link"),
            410: Gone,
        },
    )
    def post(self, request: Request, token: str) -> Response:
        address = client_address(request._request)
        try:
            link = links.link_resolve(token, address=address)
        except (links.LinkGone, links.LinkNotFound, links.LinkThrottled) as error:
            return self._failure(error)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            if link.purpose == LinkPurpose.QUESTIONNAIRE:
                result = submissions.questionnaire_submit(token=token, responses=data.get("responses"), address=address)
                crisis = [line for line in result.crisis_resources.splitlines() if line]
            elif link.purpose == LinkPurpose.CHECK_IN:
                submissions.check_in_submit(token=token, data=dict(data), address=address)
                crisis = []
            else:
                return self._failure(links.LinkNotFound())
        except (links.LinkGone, links.LinkNotFound, links.LinkThrottled) as error:
            return self._failure(error)
        return Response({"received": True, "crisis_resources": crisis}, status=status.HTTP_201_CREATED)


def register_routes(router: Any) -> None:
    router.register(
        r"patients/(?P<patient_public_id>[0-9a-f-]{36})/questionnaire-links",
        QuestionnaireLinkViewSet,
        basename="questionnairelink",
    )


def api_urlpatterns() -> list:
    from django.urls import path

    return [
        path(
            "api/v1/patients/<uuid:patient_public_id>/safety-plan/",
            SafetyPlanViewSet.as_view({"get": "retrieve_plan", "patch": "partial_update_plan"}),
            name="safetyplan-detail",
        ),
        path("api/v1/self-report/<str:token>/", SelfReportView.as_view(), name="self-report"),
    ]
