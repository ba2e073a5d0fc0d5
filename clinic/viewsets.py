"""The API's one access path for clinical resources (issue 10; DESIGN.md API contract).

Every clinical viewset subclasses `ClinicalViewSet`, which does, in this order:

1. scopes its queryset through the app's visibility selector (`visible_queryset`);
2. for a write, resolves what the URL names (the parent of a nested route, the object of a
   detail route) first, so anything the caller may not see is an audited 404;
3. checks the role matrix (`write_action`, or `action_roles` per action) *before* any input
   is read, so a care-team member whose role may not act gets 403 whatever the body says;
4. applies the one `?patient=` filter (`PatientFilter`);
5. after a successful read of clinical content, writes one audit event naming the patient or
   patients shown (issue 12 item 4), from what the request already loaded: the parent of a
   nested route, the object of a detail route, the page of a list (one extra query at most).

`tests/clinic/test_access_path.py` fails if a viewset on the API router is not one of these
(or on the short list of clinic-wide endpoints that are not about a patient).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.access import Action, patients_in_scope, require, user_can, visible_or_404
from clinic.audit import audit_denied, audit_read
from clinic.models import User

# Reads and writes by HTTP method; an @action's method decides which it is.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PATIENT_FILTER_HELP = (
    "Patient id (UUID). Only patients you may see: an unknown, malformed or invisible id "
    "answers 404, the same as the patient's own URL would."
)


class PatientFilter(filters.FilterSet):
    """`?patient=<id>`: the one answer everywhere. The id is resolved like a URL id (audited 404)."""

    patient = filters.CharFilter(method="filter_patient", help_text=PATIENT_FILTER_HELP)

    def filter_patient(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        view = self.request.parser_context["view"]
        # Resolved once per request: a list's count (count_queryset) filters a second queryset.
        resolved = getattr(view, "_patient_filtered", None)
        if resolved is None or resolved[0] != value:
            resolved = (value, visible_or_404(view.visible_patients(), user=self.request.user, public_id=value))
            view._patient_filtered = resolved
        patient = resolved[1]
        view._read_patients = [patient.public_id]  # the read audit names it without a query
        return view.filter_by_patient(queryset, patient)


def _remembered(resolve: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A viewset's `resolve_parent`, run once per request: the result (the patient of a nested
    route) is kept for the handler and the read audit."""

    @wraps(resolve)
    def resolve_once(self: Any) -> Any:
        if not hasattr(self, "_parent"):
            self._parent = resolve(self)
        return self._parent

    return resolve_once


class ClinicalViewSet(viewsets.GenericViewSet):
    """Base for every viewset over a patient's clinical record."""

    lookup_field = "public_id"
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class: ClassVar[type[filters.FilterSet] | None] = PatientFilter
    # The role-matrix action every write needs; `action_roles` overrides it per viewset action.
    write_action: ClassVar[Action | None] = None
    action_roles: ClassVar[dict[str, Action]] = {}
    # The lookup from this viewset's model to its patient (for `?patient=`).
    patient_field: ClassVar[str] = "patient"
    # Clinical content: a user with no clinical role (a clinic admin) sees empty lists and gets a
    # 404 for every object and every write. False for demographics (patients, care teams).
    clinical: ClassVar[bool] = True
    model: ClassVar[type[Model] | None] = None

    request: Request

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "resolve_parent" in cls.__dict__:
            cls.resolve_parent = _remembered(cls.__dict__["resolve_parent"])  # type: ignore[method-assign, assignment]

    # --- what subclasses provide ------------------------------------------------------------

    def visible_queryset(self) -> QuerySet[Any]:
        """The objects the caller may see: a visibility selector of the app."""
        raise NotImplementedError

    def resolve_parent(self) -> Any:
        """For a nested route: the parent object named in the URL (404 if invisible)."""
        return None

    def count_queryset(self) -> QuerySet[Any] | None:
        """The same rows as the filtered list in a shape that is cheaper to count, or None to count
        the list itself (careplans.api_paging.BoundedCountPagination asks)."""
        return None

    # --- the access path ----------------------------------------------------------------

    @property
    def user(self) -> User:
        user = self.request.user
        assert isinstance(user, User), "IsAuthenticated runs before any handler"
        return user

    def visible_patients(self) -> QuerySet[Any]:
        return patients_in_scope(self.user, scope="clinical" if self.clinical else "demographics")

    def filter_by_patient(self, queryset: QuerySet[Any], patient: Any) -> QuerySet[Any]:
        return queryset.filter(**{self.patient_field: patient})

    def required_action(self) -> Action | None:
        """The role-matrix action this request needs, or None for a read."""
        if self.action in self.action_roles:
            return self.action_roles[self.action]
        if self.request.method in SAFE_METHODS:
            return None
        return self.write_action

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, IsAuthenticated, throttles
        needed = self.required_action()
        if needed is None:
            return  # a read: the visibility selector answers (empty list, 404 for an object)
        if self.clinical and not user_can(self.user, Action.VIEW_CLINICAL):
            # No clinical role (a clinic admin): no patient's record exists for them, so a
            # write is a 404, as the chart is, whatever the body says.
            audit_denied(actor=self.user, object_type=self._object_type(), object_id=request.path[:64])
            raise Http404
        # What the URL names first: an outsider learns nothing, not even the role rule.
        self.resolve_parent()
        if self.detail:
            self.get_object()
        require(self.user, needed, object_id=request.path[:64])

    def _object_type(self) -> str:
        return self.model._meta.label_lower if self.model is not None else type(self).__name__

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            assert self.model is not None, f"{type(self).__name__} needs `model` for the schema"
            return self.model._default_manager.none()
        return self.visible_queryset()

    # --- the read audit (issue 12 item 4) -------------------------------------------------------

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        self._shown = page
        return page

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.clinical and request.method == "GET" and response.status_code == 200:
            audit_read(
                actor=self.user,
                patient_ids=self._patients_read(),
                object_type=self._object_type(),
                object_id=str(self.kwargs.get(self.lookup_url_kwarg or "public_id", ""))[:64],
            )
        return response

    def _patients_read(self) -> list[Any]:
        """The public ids of the patients whose records this response showed."""
        parent = getattr(self, "_parent", None)
        if isinstance(parent, Model):
            # A nested route's parent: the patient itself, or a record of one (a care plan's goals).
            owner: Any = parent if parent._meta.model_name == "patient" else getattr(parent, "patient", None)
            if owner is not None:
                return [owner.public_id]
        if hasattr(self, "_read_patients"):
            return list(self._read_patients)
        shown = [self._object] if hasattr(self, "_object") else list(getattr(self, "_shown", None) or [])
        rows = [row for row in shown if isinstance(row, Model)]
        if not rows:
            return []
        model = rows[0]._meta.model
        if model._meta.model_name == "patient":
            return [row.public_id for row in rows]  # type: ignore[attr-defined]
        lookup = f"{self.patient_field}__public_id"
        pks = [row.pk for row in rows]
        return list(model._default_manager.filter(pk__in=pks).values_list(lookup, flat=True).distinct())

    def get_object(self) -> Any:
        if not hasattr(self, "_object"):
            self._object = visible_or_404(
                self.visible_queryset(), user=self.user, public_id=self.kwargs[self.lookup_url_kwarg or "public_id"]
            )
            self.check_object_permissions(self.request, self._object)
        return self._object


class EnteredInErrorSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why this record was entered in error.")


class EnteredInErrorMixin:
    """`POST {id}/entered-in-error/ {reason}` → 204: the record stays, marked with who, when and
    why, and leaves lists, summaries and reminder scans. The viewset names the service."""

    def entered_in_error_record(self, record: Any, *, actor: User, reason: str) -> None:
        raise NotImplementedError

    @extend_schema(request=EnteredInErrorSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, public_id: str | None = None) -> Response:
        return self._mark_entered_in_error(request)

    def _mark_entered_in_error(self, request: Request) -> Response:
        view: Any = self
        record = view.get_object()  # resolved (404) and role-checked (403) in initial()
        given = EnteredInErrorSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        self.entered_in_error_record(record, actor=view.user, reason=given.validated_data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class EnterInErrorAliasMixin(EnteredInErrorMixin):
    """The first spelling, `enter-in-error`, kept for clients that use it (the contract never
    breaks) and marked deprecated in the schema."""

    @extend_schema(
        request=EnteredInErrorSerializer,
        responses={204: None},
        deprecated=True,
        description="Deprecated alias of `entered-in-error`.",
    )
    @action(detail=True, methods=["post"], url_path="enter-in-error")
    def enter_in_error(self, request: Request, public_id: str | None = None) -> Response:
        return self._mark_entered_in_error(request)


class AdminViewSet(viewsets.GenericViewSet):
    """Base for clinic-administration endpoints (staff, audit trail, reports): one role-matrix
    action for every method, checked before anything is read; anyone else gets 403 (the
    contract: these endpoints exist for everyone, only the role decides)."""

    lookup_field = "public_id"
    admin_action: ClassVar[Action]
    denied_as: ClassVar[str] = "clinic.role"  # the object type a refusal is audited under
    patient_field: ClassVar[str] = "patient"
    model: ClassVar[type[Model] | None] = None
    request: Request

    @property
    def user(self) -> User:
        user = self.request.user
        assert isinstance(user, User), "IsAuthenticated runs before any handler"
        return user

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        require(self.user, self.admin_action, object_type=self.denied_as, object_id=request.path[:64])

    def visible_patients(self) -> QuerySet[Any]:
        return patients_in_scope(self.user, scope="demographics")

    def filter_by_patient(self, queryset: QuerySet[Any], patient: Any) -> QuerySet[Any]:
        return queryset.filter(**{self.patient_field: patient})
