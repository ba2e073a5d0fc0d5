"""The chart's medications tab. An empty shell until this app's issue fills it."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from careplans.chart import chart_context


@login_required
def tab(request: HttpRequest, patient_id: str) -> HttpResponse:
    context = chart_context(user=request.user, patient_id=patient_id, tab="medications")
    return render(request, "medications/chart_tab.html", context)
