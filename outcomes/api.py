"""REST API of the outcomes app. `register_routes` is called by clinic/urls.py."""

from rest_framework.routers import SimpleRouter


def register_routes(router: SimpleRouter) -> None:
    """Add this app's viewsets to the /api/v1/ router."""
