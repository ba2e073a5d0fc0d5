from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def qty(value: Decimal | None) -> str:
    """150.000 -> "150", 0.500 -> "0.5" (doses and lab values without trailing zeros)."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")
