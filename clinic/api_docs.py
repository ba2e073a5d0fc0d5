"""The Swagger UI at /api/docs/ under the strict CSP of every other page (SECURITY.md HD-1).

drf-spectacular's default Swagger view inlines its init script and a small <style> block, both
blocked by `script-src 'self'` / `style-src 'self'`. The "split" variant serves the init script
from this same URL (`?script`), so it loads as an ordinary same-origin <script src>; our
template replaces the inline <style> with a static stylesheet. The policy is not loosened, not
even on this one view. Access is unchanged: the view keeps drf-spectacular's SERVE_PERMISSIONS
(IsAuthenticated), like /api/schema/.
"""

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    template_name = "clinic/api_docs.html"
