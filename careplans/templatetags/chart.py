from typing import Any

from django import template
from django.urls import reverse

from careplans.chart import chart_home_url
from careplans.chart import chart_tabs as registered_tabs

register = template.Library()


@register.simple_tag
def chart_tabs(patient: Any, active: str) -> list[dict[str, Any]]:
    return [
        {
            "label": tab.label,
            "url": reverse(tab.url_name, kwargs={"patient_id": patient.public_id}),
            "active": tab.key == active,
        }
        for tab in registered_tabs()
    ]


@register.simple_tag
def chart_home(patient: Any) -> str:
    """The chart's entry link: its first tab (Overview)."""
    return chart_home_url(patient.public_id)
