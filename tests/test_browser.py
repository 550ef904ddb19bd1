"""The console in a real browser: Playwright drives Debian's Chromium against pytest-django's live server.

Each role logs in and sees the dashboard; operations add, edit, remove, restore and export a customer and see
the edit in its audit trail and in the client lookup; support only look. Screenshots of the dashboard and of a
customer page go to ``artifacts/`` (CI keeps them). Skipped without Chromium, except under CI (``CI`` set),
where a missing browser is a failure: ``.ci/run`` installs it (``apt-get install chromium fonts-noto-cjk``).
"""

import datetime
import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from console.roles import OPERATIONS, SUPPORT, roles_sync
from customers.models import Customer
from customers.services import customer_create

pytestmark = [pytest.mark.browser, pytest.mark.once]

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
PASSWORD = "pw-for-browser-tests-1"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHANGELIST = "/admin/customers/customer/"


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("CI runs the browser tests: Debian's chromium is missing (.ci/run installs it)")
    pytest.skip("no Chromium here: apt-get install chromium fonts-noto-cjk")


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def console(browser, live_server, settings):
    """Open a logged-in console page for a user: ``console(user)``; in Chinese, as the console speaks by default."""
    # The live server speaks plain HTTP; production cookies are Secure (HTTPS behind nginx).
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    contexts = []

    def open_as(user):
        context = browser.new_context(
            base_url=live_server.url, locale="zh-CN", viewport={"width": 1366, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("#login-form [type=submit]")
        page.wait_for_url("**/admin/")
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def people(django_user_model):
    """A member of each role and a superuser (the live-server tests start from an emptied database)."""
    roles_sync()

    def member(username, role=None, **flags):
        user = django_user_model.objects.create_user(username=username, password=PASSWORD, is_staff=True, **flags)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return {
        "operations": member("ops-wang", OPERATIONS),
        "support": member("support-li", SUPPORT),
        "superuser": member("boss", is_superuser=True),
    }


@pytest.fixture
def fleet():
    today = timezone.localdate()
    return [
        customer_create(code="0513002", name="苏州中威", timeout=today + datetime.timedelta(days=10)),
        customer_create(code="0571001", name="杭州客户", timeout=today - datetime.timedelta(days=3)),
        customer_create(code="0571002", name="宁波客户", timeout=today + datetime.timedelta(days=400)),
    ]


def lookup(live_server, code: str) -> tuple[int, dict]:
    """``/api/customer/info`` as an IM client asks it."""
    try:
        with urllib.request.urlopen(f"{live_server.url}/api/customer/info?code={code}", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=True)


def test_operations_keep_a_customer_from_adding_to_export(console, people, fleet, live_server):
    page = console(people["operations"])

    # Add.
    page.goto(f"{CHANGELIST}add/")
    page.fill("#id_code", "0513001")
    page.fill("#id_name", "江苏中威科技")
    page.fill("#id_mac", "56-e8-f6-23-ef")
    for server, port in (("tcp", "10003"), ("web", "10001"), ("file", "10004")):
        page.fill(f"#id_{server}host", "61.155.85.77")
        page.fill(f"#id_{server}port", port)
    page.fill("#id_timeout", "2030-09-21")
    page.fill("#id_contact", "杨燕龙")
    page.fill("#id_ctel", "15151390310")
    page.click("[name=_save]")
    page.wait_for_selector(".messagelist .success")
    customer = Customer.objects.get(code="0513001")
    assert customer.mac == "56:E8:F6:23:EF"
    assert lookup(live_server, "0513001")[1]["tcpport"] == 10003

    # Edit.
    page.click(f"#result_list a[href*='{customer.pk}']")
    page.fill("#id_tcpport", "10013")
    page.fill("#id_name", "江苏中威科技有限公司")
    page.click("[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert page.input_value("#id_tcpport") == "10013"
    screenshot(page, "customer.png")

    # The edit in the audit trail: who, old → new.
    page.click("a.historylink")
    trail = page.locator("#change-history")
    latest = trail.locator("tbody tr").first
    assert "ops-wang" in latest.inner_text()
    assert "10003" in latest.inner_text() and "10013" in latest.inner_text()
    assert "江苏中威科技有限公司" in latest.inner_text()
    assert "→" in latest.inner_text()

    # ... and in what IM clients are told.
    status, answer = lookup(live_server, "0513001")
    assert status == 200
    assert answer["tcpport"] == 10013

    # Remove: the lookup forgets it.
    page.goto(f"{CHANGELIST}{customer.pk}/change/")
    page.click("a.deletelink")
    page.click("#content form [type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert lookup(live_server, "0513001")[0] == 404

    # Restore from the list of removed customers.
    page.goto(f"{CHANGELIST}?registry=removed")
    page.check(f"input[name=_selected_action][value='{customer.pk}']")
    page.select_option("select[name=action]", "restore_selected")
    page.click("#changelist-form button[name=index]")
    page.wait_for_selector(".messagelist .success")
    assert lookup(live_server, "0513001")[0] == 200
    page.goto(f"{CHANGELIST}{customer.pk}/history/")
    assert page.locator("#change-history tbody tr").count() == 4  # added, edited, removed, restored

    # Export the list as CSV: Excel's UTF-8 (with a BOM), Chinese intact.
    page.goto(CHANGELIST)
    page.click("a.export_link")
    page.select_option("select[name=format]", label="csv")
    with page.expect_download() as download:
        page.click("#content form [type=submit]")
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert "0513001" in text and "江苏中威科技有限公司" in text
    assert {"0513002", "0571001", "0571002"} <= {line.split(",")[0] for line in text.splitlines()}


def test_support_see_customers_and_their_history_but_change_nothing(console, people, fleet):
    page = console(people["support"])

    page.goto(CHANGELIST)
    assert page.locator("#result_list tbody tr").count() == len(fleet)
    assert page.locator("a.addlink").count() == 0
    page.click("#result_list a:text('0571001')")
    assert page.locator("[name=_save]").count() == 0  # a view page, not a form
    page.click("a.historylink")
    assert page.locator("#change-history").is_visible()


@pytest.mark.parametrize("role", ["operations", "support", "superuser"])
def test_each_role_logs_in_and_sees_the_dashboard(console, people, fleet, role):
    page = console(people[role])

    dashboard = page.locator(".zw-fleet")
    assert dashboard.is_visible()
    assert dashboard.locator(".zw-figure").count() > 0
    if role == "superuser":
        screenshot(page, "dashboard.png")


def test_a_dashboard_figure_opens_its_filtered_list(console, people, fleet):
    page = console(people["operations"])
    expired = page.locator(".zw-fleet .zw-value a[href*='licence=expired']")
    assert expired.inner_text() == "1"

    expired.click()

    page.wait_for_url("**/admin/customers/customer/?licence=expired")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "0571001" in rows.first.inner_text()
