"""API for the clinic itself: token login, staff accounts, the audit trail."""

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import mixins, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.access import Action
from clinic.audit import audit_record
from clinic.credentials import mfa_enrolled, mfa_verify, token_revoke, tokens_revoke_all
from clinic.models import AuditAction, AuditEvent, AuditOutcome, Role, User
from clinic.selectors import audit_events_visible_to, staff_visible_to
from clinic.services import user_create, user_update
from clinic.throttles import SignInThrottle, failure_record
from clinic.viewsets import AdminViewSet, PatientFilter


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="Required for accounts with two-step sign-in: the 6-digit code from the authenticator app, "
        "or an unused recovery code.",
    )


OTP_REQUIRED = (
    "This account uses two-step sign-in: send `otp`, the 6-digit code from the authenticator app or a recovery code."
)
OTP_INVALID = "The code is not valid (or was already used)."


class TokenLoginView(APIView):
    """Exchange username + password (+ `otp` for two-step accounts) for an API token.

    The token ends after 30 minutes without use and 12 hours after it was issued (SECURITY.md
    SE-1). Throttled per address and per account (clinic/throttles.py)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [SignInThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer(
                "TokenResponse", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
            )
        },
    )
    def post(self, request: Request) -> Response:
        given = TokenRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        username = given.validated_data["username"]
        # django-axes counts this failure and refuses (403) while the account is locked (AU-3).
        user = authenticate(request._request, username=username, password=given.validated_data["password"])
        if user is None or not user.is_active:
            if not getattr(request._request, "axes_locked_out", False):
                failure_record(username)
            # Same answer for an unknown user and a wrong password.
            return Response(
                {"non_field_errors": ["Unable to log in with the credentials provided."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        assert isinstance(user, User)
        if mfa_enrolled(user):
            code = given.validated_data.get("otp", "")
            if not code:
                return Response({"otp": [OTP_REQUIRED]}, status=status.HTTP_400_BAD_REQUEST)
            if mfa_verify(user, code) is None:
                failure_record(username)
                audit_record(
                    actor=user,
                    action=AuditAction.LOGIN_FAILED,
                    outcome=AuditOutcome.DENIED,
                    object_type="knox.authtoken",
                    object_id="otp",
                )
                return Response({"otp": [OTP_INVALID]}, status=status.HTTP_400_BAD_REQUEST)
        elif settings.MFA_REQUIRED:
            return Response(
                {"non_field_errors": ["Set up two-step sign-in on the web first (Account, Two-step sign-in)."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        instance, token = AuthToken.objects.create(user=user)
        audit_record(actor=user, action=AuditAction.LOGIN, object_type="knox.authtoken", object_id=instance.token_key)
        return Response({"token": token, "expiry": instance.expiry})


class TokenLogoutView(APIView):
    """Revoke the token this request was made with (204). A session-authenticated call has no token: 400."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if not isinstance(request.auth, AuthToken):
            return Response({"detail": "Only an API token can be revoked here."}, status=status.HTTP_400_BAD_REQUEST)
        assert isinstance(request.user, User)
        token_revoke(token=request.auth, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenLogoutAllView(APIView):
    """Revoke every API token of the calling user (204)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=False)
    password = serializers.CharField(
        write_only=True, required=False, trim_whitespace=False, style={"input_type": "password"}
    )

    class Meta:
        model = User
        fields = ["id", "username", "password", "first_name", "last_name", "email", "roles", "is_active"]
        read_only_fields = ["is_active"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": ["This field is required."]})
        return attrs


class UserUpdateSerializer(UserSerializer):
    class Meta(UserSerializer.Meta):
        read_only_fields = ["username"]
        extra_kwargs = {"roles": {"required": False}}


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    AdminViewSet,
):
    """Staff accounts (clinic admins only)."""

    admin_action = Action.MANAGE_STAFF
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return User.objects.none()
        return staff_visible_to(self.user)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return UserUpdateSerializer if self.action == "partial_update" else UserSerializer

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = user_create(actor=self.user, **serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        assert serializer.instance is not None, "an update: UpdateModelMixin passed get_object()"
        data = dict(serializer.validated_data)
        serializer.instance = user_update(user=serializer.instance, actor=self.user, **data)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.UUIDField(source="actor.public_id", read_only=True, allow_null=True, default=None)
    patient = serializers.UUIDField(
        source="patient_id", read_only=True, allow_null=True, help_text="Null for events about no one patient."
    )
    seq = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Position in the sealed chain; null until sealed (within seconds)."
    )
    hash = serializers.SerializerMethodField(
        help_text="HMAC-SHA256 seal of the event and its position; empty until sealed (within seconds)."
    )

    def get_hash(self, event: AuditEvent) -> str:
        return event.hash or ""  # the contract's string: never null

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor",
            "actor_roles",
            "action",
            "object_type",
            "object_id",
            "patient",
            "outcome",
            "changes",
            "request_id",
            "seq",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class AuditEventViewSet(mixins.ListModelMixin, AdminViewSet):
    """The audit trail, newest first; `?patient=<uuid>` narrows it to one patient (clinic admins).

    List only: events are addressed by their place in the chain, not by a URL of their own."""

    serializer_class = AuditEventSerializer
    admin_action = Action.VIEW_AUDIT
    filter_backends = [DjangoFilterBackend]
    filterset_class = PatientFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return audit_events_visible_to(self.user)

    def filter_by_patient(self, queryset: QuerySet[Any], patient: Any) -> QuerySet[Any]:
        # Audit rows name the patient by its public id: `clinic` may not hold a foreign key to it.
        return queryset.filter(patient_id=patient.public_id)
