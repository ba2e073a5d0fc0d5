"""The app's URLs plus the floor page (harness.serve_settings)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path

_FLOOR = engines["django"].from_string("<!doctype html><title>floor</title><p>{{ user.username }}</p>")


@login_required
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_FLOOR.render({"user": request.user}, request))


urlpatterns = [path("bench/floor/", floor), path("", include("clinic.urls"))]
