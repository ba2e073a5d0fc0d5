"""Real Chromium (Debian's package) driven by Playwright against pytest-django's live server.

Screenshots go to test-artifacts/screenshots/ so a person can look at them.
"""

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# while one is active unless told this is deliberate (it is: tests are single-threaded here).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            # One xdist worker runs all browser tests: they share one Chromium.
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("Chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium is not installed: apt-get install -y chromium")
    from django.db import connection
    from playwright.sync_api import sync_playwright

    contents = getattr(connection, "_test_serialized_contents", None)
    if contents:
        _MIGRATED_DATA.append(_catalog_rows(contents))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


CATALOG_APPS = {"medications", "therapy", "outcomes", "careplans", "clinic"}
_MIGRATED_DATA: list[str] = []  # Django's serialized copy of the freshly migrated test database


def _restore_migration_data() -> None:
    """Put back the rows data migrations ship (drug catalog, protocols, modalities) if an earlier
    transactional test's flush removed them. Serialized rollback does not reach here: once
    Playwright's greenlet runs, Django hands out a new connection object without the copy."""
    from django.db import connection

    from medications.models import Medication

    if _MIGRATED_DATA and not Medication.objects.exists():
        connection.creation.deserialize_db_from_string(_MIGRATED_DATA[0])


def _catalog_rows(serialized: str) -> str:
    """Only the apps' own shipped rows: content types and permissions come back by themselves
    after a flush (post_migrate), with new ids that the old copies would collide with."""
    rows = [row for row in json.loads(serialized) if row["model"].split(".")[0] in CATALOG_APPS]
    return json.dumps(rows)


@pytest.fixture
def page(chromium, live_server):  # type: ignore[no-untyped-def]
    _restore_migration_data()
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)  # 2 shared cores: a slow first live-server request is not a failure
    page.console_messages = []
    page.on("console", lambda message: page.console_messages.append(message.text))
    yield page
    context.close()


@pytest.fixture
def login(page) -> Callable:  # type: ignore[no-untyped-def]
    """login(user): sign in through the real login form."""

    def sign_in(user) -> None:  # type: ignore[no-untyped-def]
        page.goto("/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    return sign_in


@pytest.fixture
def screenshot(page) -> Callable:  # type: ignore[no-untyped-def]
    def take(name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        # caret="initial": Playwright would otherwise inject an inline style, which our CSP reports.
        page.screenshot(path=str(path), full_page=True, caret="initial")
        return path

    return take


SHOT_WIDTHS = (390, 768, 1280)  # phone, tablet, desktop


@pytest.fixture
def shots(page) -> Callable:  # type: ignore[no-untyped-def]
    """shots(name): full-page screenshots at phone, tablet and desktop width (`{name}_{width}.png`),
    each checked for sideways scrolling; the viewport is put back afterwards."""

    def take(name: str, widths: tuple[int, ...] = SHOT_WIDTHS) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        current = page.viewport_size
        for width in widths:
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(ARTIFACTS / f"{name}_{width}.png"), full_page=True, caret="initial")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} is {overflow}px wider than {width}px"
        page.set_viewport_size(current)

    return take


@pytest.fixture
def eager_celery():  # type: ignore[no-untyped-def]
    """Tasks run in-process, as under `make run`: with REDIS_URL set no worker runs in browser tests
    (report exports, urgent e-mails)."""
    from clinic.celery import app as celery_app

    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before
