"""The console in a real browser: Playwright drives Debian's Chromium against pytest-django's live server.

A tour of every page each role reaches, in Chinese and English, at 1440×900 and 390×844, on the demo data:
no page overflows sideways at 1440×900, customer rows are one line, no Chinese page shows an English word
beyond a short allowlist (and the customers' own data), nothing breaks the Content-Security-Policy (the admin's
scripts, the theme's and the SVG charts still work), and a screenshot of each goes to ``artifacts/`` (CI keeps
them). Then the day's tasks: operations add, edit, remove (always confirmed; more than five: the number typed),
restore and export a customer; support only look; a superuser adds a staff member on one page.

One browser for the whole session; each test opens a context per person and reuses its page from URL to URL.
Skipped without Chromium, except under CI (``CI`` set), where a missing browser is a failure: ``.ci/run``
installs it (``apt-get install chromium fonts-noto-cjk``).
"""

import datetime
import json
import os
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from console.roles import OPERATIONS, SUPPORT, roles_sync
from customers.models import Customer
from customers.services import customer_create, customer_remove, customer_restore, customer_update
from telemetry.models import ImGroup, ImUser, ServerStatus, UnregisteredServer

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
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
LANGUAGES = {"zh": "zh-CN", "en": "en-US"}

# Latin words a Chinese page may show: protocol and product names, file formats, HTTP methods on the API's own
# page, and the customers' and staff's own data (collected from the database by ``user_data``).
ALLOWED = {"IM", "MAC", "IP", "TCP", "WEB", "FILE", "CSV", "XLSX", "UUID", "ID", "Android", "PC", "iOS"}
ALLOWED |= {"GET", "OPTIONS"}  # the buttons of /user/list's browsable page

# The text a person reads: visible text nodes and the titles and placeholders of visible elements; not the
# theme's icon ligatures, not the API page's response (data: JSON and HTTP headers).
VISIBLE_TEXT = """() => {
  const out = [];
  const skip = 'script, style, template, .material-symbols-outlined, .response-info, pre, code, svg title';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (!parent || parent.closest(skip) || !parent.getClientRects().length) continue;
    const style = getComputedStyle(parent);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    out.push(walker.currentNode.textContent);
  }
  for (const element of document.querySelectorAll('[title], [placeholder]')) {
    if (!element.getClientRects().length || element.closest(skip)) continue;
    for (const name of ['title', 'placeholder']) if (element.getAttribute(name)) out.push(element.getAttribute(name));
  }
  return out;
}"""
# Elements scrolled sideways: the page itself, and any box that scrolls (a table wider than its container).
OVERFLOW = """() => {
  const wide = [];
  if (document.documentElement.scrollWidth > window.innerWidth + 1) wide.push('page');
  for (const element of document.querySelectorAll('*')) {
    const overflow = getComputedStyle(element).overflowX;
    if ((overflow === 'auto' || overflow === 'scroll') && element.scrollWidth > element.clientWidth + 1
        && element.getClientRects().length) wide.push(element.tagName + '.' + String(element.className).slice(0, 40));
  }
  return wide;
}"""
CSP_VIOLATIONS = "() => window.__cspViolations || []"
RECORD_CSP = """document.addEventListener('securitypolicyviolation', event => {
  (window.__cspViolations = window.__cspViolations || []).push(event.violatedDirective + ' ' + event.blockedURI);
});"""


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("CI runs the browser tests: Debian's chromium is missing (.ci/run installs it)")
    pytest.skip("no Chromium here: apt-get install chromium fonts-noto-cjk")


@pytest.fixture(scope="session")
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
    """Open a logged-in console page for a user: ``console(user, language="zh")``; Chinese by default.

    The page records console errors and Content-Security-Policy violations (``page.problems``)."""
    # The live server speaks plain HTTP; production cookies are Secure (HTTPS behind nginx).
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    contexts = []

    def open_as(user, language="zh"):
        context = browser.new_context(
            base_url=live_server.url,
            locale=LANGUAGES[language],
            viewport=DESKTOP,
            accept_downloads=True,
            extra_http_headers={"Accept-Language": LANGUAGES[language]},
        )
        context.set_default_timeout(15_000)
        context.add_init_script(RECORD_CSP)
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("console", lambda message: page.problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: page.problems.append(str(error)))
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


@pytest.fixture
def demo(db):
    """The demo data of `make run`: customers in every state, 90 days of reports, users, groups."""
    call_command("load_demo", verbosity=0)
    customers = {customer.code: customer for customer in Customer.objects.all()}
    edited = customers["0250017"]  # a history to show: an edit with its reason, a removal and its restore
    customer_update(customer=edited, data={"contact": "王海峰", "ctel": "13905181234"}, reason="客户更换了联系人")
    customer_remove(customer=edited, reason="误删")
    customer_restore(customer=edited, reason="误删后恢复")
    return customers


def lookup(live_server, code: str) -> tuple[int, dict]:
    """``/api/customer/info`` as an IM client asks it."""
    try:
        with urllib.request.urlopen(f"{live_server.url}/api/customer/info?code={code}", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def screenshot(page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=full_page)


def user_data() -> set[str]:
    """Every Latin word of the data the pages show: names, hosts, MACs, nicknames, usernames (their own words)."""
    from django.contrib.auth.models import User

    texts = []
    for customer in Customer.objects.all():
        texts += [customer.name, customer.mac, customer.tcphost, customer.webhost, customer.filehost, customer.contact]
    texts += list(ServerStatus.objects.values_list("name", flat=True))
    texts += list(ServerStatus.objects.values_list("mac", flat=True))
    texts += list(ImUser.objects.values_list("nickname", flat=True))
    texts += list(ImUser.objects.values_list("uuid", flat=True))
    texts += list(ImGroup.objects.values_list("name", flat=True))
    texts += list(ImGroup.objects.values_list("gid", flat=True))
    texts += list(ImGroup.objects.values_list("creatername", flat=True))
    texts += list(UnregisteredServer.objects.values_list("name", flat=True))
    texts += list(UnregisteredServer.objects.values_list("mac", flat=True))
    usernames = list(User.objects.values_list("username", flat=True))
    texts += usernames + [name[0].upper() for name in usernames]  # the avatar shows the initial
    return {word for text in texts if text for word in re.findall(r"[A-Za-z]+", str(text))}


def english_words(page, allowed: set[str]) -> set[str]:
    # Hexadecimal tokens (a UUID's groups, a hash) are data, whatever run of letters a-f they happen to hold.
    tokens = {token for text in page.evaluate(VISIBLE_TEXT) for token in re.findall(r"[A-Za-z0-9]+", text)}
    words = {
        word
        for token in tokens
        if not (re.fullmatch("[0-9a-fA-F]+", token) and re.search("[0-9]", token))
        for word in re.findall(r"[A-Za-z]+", token)
    }
    return {word for word in words if word not in allowed and not re.fullmatch("[a-fA-F]{1,8}", word)}


def tour_pages(role: str, demo: dict) -> list[tuple[str, str]]:
    """(name, path) of every page a role reaches in a day, with the demo data."""
    silent, mismatch = demo["0512003"], demo["0250017"]
    pages = [
        ("dashboard", "/admin/"),
        ("customers", CHANGELIST),
        ("customers-silent", f"{CHANGELIST}?reporting=silent"),
        ("customers-removed", f"{CHANGELIST}?registry=removed"),
        ("customer", f"{CHANGELIST}{mismatch.pk}/change/"),
        ("customer-reports-tab", f"{CHANGELIST}{mismatch.pk}/change/#dataset-serverreport"),
        ("customer-users-tab", f"{CHANGELIST}{mismatch.pk}/change/#dataset-imuser"),
        ("customer-history", f"{CHANGELIST}{mismatch.pk}/history/"),
        ("customer-silent", f"{CHANGELIST}{silent.pk}/change/"),
        ("customers-export", f"{CHANGELIST}export/"),
        ("server-reports", "/admin/telemetry/serverreport/"),
        ("im-users", "/admin/telemetry/imuser/"),
        ("im-groups", "/admin/telemetry/imgroup/"),
        ("server-changes", "/admin/telemetry/serverchange/"),
        ("unregistered-servers", "/admin/telemetry/unregisteredserver/?registered=no"),
        ("user-list-api", f"/user/list?code={mismatch.code}"),
        ("password-change", "/admin/password_change/"),
    ]
    if role == "operations":
        pages += [
            ("customer-add", f"{CHANGELIST}add/"),
            ("customer-remove", f"{CHANGELIST}{silent.pk}/delete/"),
        ]
    return pages


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("role", ["operations", "support"])
def test_every_page_fits_speaks_one_language_and_keeps_to_the_policy(console, people, demo, role, language):
    page = console(people[role], language)
    allowed = ALLOWED | user_data()
    problems = []
    for name, path in tour_pages(role, demo):
        page.set_viewport_size(DESKTOP)
        page.goto("about:blank")  # a new document each time, even where only the #tab changes
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if "#dataset-" in path:  # a tab of the customer page
            page.click(f"#tabs-items a[href='{path[path.index('#') :]}']")
        wide = page.evaluate(OVERFLOW)
        if wide:
            problems.append((name, "wider than 1440 px", wide))
        if language == "zh" and (english := english_words(page, allowed)):
            problems.append((name, "English on a Chinese page", sorted(english)))
        rows = page.evaluate(
            "() => [...document.querySelectorAll('#result_list tbody tr')].map(row => row.offsetHeight)"
        )
        if name.startswith("customers") and rows and max(rows) > 56:
            problems.append((name, "customer rows taller than one line", max(rows)))
        screenshot(page, f"{name}-{role}-{language}-1440.png")
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(100)
        if page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1"):
            problems.append((name, "wider than 390 px", page.evaluate("() => document.documentElement.scrollWidth")))
        screenshot(page, f"{name}-{role}-{language}-390.png")
    problems += [("console", "errors", page.problems)] if page.problems else []
    problems += [("csp", "violations", page.evaluate(CSP_VIOLATIONS))] if page.evaluate(CSP_VIOLATIONS) else []

    assert problems == [], "\n".join(map(str, problems))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_login_page_speaks_the_browsers_language(browser, live_server, language):
    context = browser.new_context(
        base_url=live_server.url,
        locale=LANGUAGES[language],
        viewport=DESKTOP,
        extra_http_headers={"Accept-Language": LANGUAGES[language]},
    )
    page = context.new_page()
    page.goto("/admin/login/?next=/admin/")

    assert page.locator("#id_username").is_visible()
    if language == "zh":
        assert english_words(page, ALLOWED) == set()
        assert "欢迎回到" in page.inner_text("body")
    screenshot(page, f"login-{language}-1440.png")
    page.set_viewport_size(PHONE)
    screenshot(page, f"login-{language}-390.png")
    context.close()


def test_the_dashboard_names_trouble_links_each_row_and_searches(console, people, demo):
    page = console(people["operations"])

    rows = page.locator("#zw-trouble tbody tr")
    assert rows.count() == 8  # the demo: 8 customers and servers need attention
    first = rows.first.inner_text()
    assert "许可证已过期" in first  # most urgent first
    assert page.locator("#fleet-reports-per-day .zw-chart-partial").count() == 1  # today, not over yet
    screenshot(page, "dashboard.png", full_page=False)

    page.click("#zw-trouble a:has-text('0250017')")
    page.wait_for_url(f"**{CHANGELIST}{demo['0250017'].pk}/change/")
    assert "与登记不一致" in page.locator(".zw-status-mismatch-mac").inner_text()
    assert page.locator("svg#customer-users").is_visible()  # the SVG charts draw under the policy

    page.goto("/admin/")
    page.fill("#zw-search-input", "3C:52:82:1D:09:AF")
    page.press("#zw-search-input", "Enter")
    page.wait_for_url("**q=3C*")
    assert page.locator("#result_list tbody tr").count() == 1
    assert page.problems == []


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
    page.wait_for_url(f"**{CHANGELIST}")
    customer = Customer.objects.get(code="0513001")
    assert customer.mac == "56:E8:F6:23:EF"
    assert lookup(live_server, "0513001")[1]["tcpport"] == 10003

    # Edit, saying why.
    page.click(f"#result_list a[href*='{customer.pk}']")
    page.fill("#id_tcpport", "10013")
    page.fill("#id_name", "江苏中威科技有限公司")
    page.fill("#id_change_reason", "客户更换了端口")
    page.click("[name=_continue]")
    page.wait_for_load_state()
    assert page.input_value("#id_tcpport") == "10013"
    screenshot(page, "customer.png")

    # The edit in the audit trail: who, old → new, why.
    page.goto(f"{CHANGELIST}{customer.pk}/history/")
    latest = page.locator("#change-history tbody tr").first
    assert "ops-wang" in latest.inner_text()
    assert "10003" in latest.inner_text() and "10013" in latest.inner_text()
    assert "客户更换了端口" in latest.inner_text()
    assert lookup(live_server, "0513001") == (200, lookup(live_server, "0513001")[1])
    assert lookup(live_server, "0513001")[1]["tcpport"] == 10013

    # Remove: a confirmation first, naming the customer and what happens; then the lookup forgets it.
    page.goto(f"{CHANGELIST}{customer.pk}/change/")
    page.click(f"a[href$='{customer.pk}/delete/']")
    assert "0513001 江苏中威科技有限公司" in page.locator(".zw-removal-list").inner_text()
    assert "404" in page.locator(".zw-removal-consequences").inner_text()
    assert lookup(live_server, "0513001")[0] == 200  # nothing happened yet
    page.fill("#id_reason", "合同到期")
    page.click("button[name=remove]")
    page.wait_for_url(f"**{CHANGELIST}")
    assert lookup(live_server, "0513001")[0] == 404

    # Its page is read-only, says who removed it; 恢复 puts it back.
    page.goto(f"{CHANGELIST}{customer.pk}/change/")
    banner = page.locator("#zw-removed-banner")
    assert "ops-wang" in banner.inner_text() and "合同到期" in banner.inner_text()
    assert page.locator("[name=_save]").count() == 0
    screenshot(page, "customer-removed.png", full_page=False)
    page.click("#zw-restore")
    page.wait_for_load_state()
    assert lookup(live_server, "0513001")[0] == 200
    page.goto(f"{CHANGELIST}{customer.pk}/history/")
    events = [text.strip() for text in page.locator("#change-history tbody tr td:nth-child(3)").all_inner_texts()]
    assert events == ["恢复", "删除", "修改", "登记"]

    # Export the list as CSV: Excel's UTF-8 (with a BOM), Chinese intact.
    page.goto(f"{CHANGELIST}export/")
    page.select_option("select[name=format]", label="csv")
    with page.expect_download() as download:
        page.click("form:not([action$='/logout/']) button[type=submit]")
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert "0513001" in text and "江苏中威科技有限公司" in text
    assert {"0513002", "0571001", "0571002"} <= {line.split(",")[0] for line in text.splitlines()}
    assert page.problems == []


def select_all_and_remove(page):
    page.goto(CHANGELIST)
    page.check("#action-toggle") if page.locator("#action-toggle").count() else page.click("thead input[type=checkbox]")
    page.select_option("select[name=action]", "remove_selected")
    page.click("#changelist-form button[type=submit][name=index], #changelist-form button[type=submit]")


def test_a_bulk_removal_of_more_than_five_needs_the_number_typed(console, people, live_server):
    codes = [f"06000{number:02d}" for number in range(7)]
    for code in codes:
        customer_create(code=code, name=f"客户{code}")
    page = console(people["operations"])

    select_all_and_remove(page)
    page.wait_for_selector(".zw-removal-list")
    assert page.locator(".zw-removal-list li").count() == 7
    screenshot(page, "customers-remove-confirmation.png")
    page.click("button[name=remove]")  # without typing the number
    page.wait_for_load_state()
    assert "请输入要删除的客户数 7 以确认" in page.content()
    assert Customer.objects.removed().count() == 0
    assert lookup(live_server, codes[0])[0] == 200

    page.fill("#id_typed_count", "6")
    page.click("button[name=remove]")
    page.wait_for_load_state()
    assert Customer.objects.removed().count() == 0

    page.fill("#id_typed_count", "7")
    page.click("button[name=remove]")
    page.wait_for_url(f"**{CHANGELIST}")
    assert Customer.objects.removed().count() == 7
    assert lookup(live_server, codes[0])[0] == 404

    # A search that matches only removed customers says so and links to them.
    page.fill("#searchbar", codes[3])
    page.press("#searchbar", "Enter")
    page.wait_for_selector(".zw-removed-matches")
    page.click(".zw-removed-matches a")
    page.wait_for_selector("#result_list tbody tr")
    assert page.locator("#result_list tbody tr").count() == 1
    assert page.problems == []


def test_support_see_customers_and_their_history_but_change_nothing(console, people, fleet):
    page = console(people["support"])

    page.goto(CHANGELIST)
    assert page.locator("#result_list tbody tr").count() == len(fleet)
    assert page.locator("a[href$='/add/']").count() == 0
    assert page.locator("select[name=action] option[value=remove_selected]").count() == 0
    page.click("#result_list a:text('0571001')")
    assert page.locator("[name=_save]").count() == 0  # a view page, not a form
    assert page.locator("#id_change_reason").count() == 0
    assert "4 到 12 位数字" not in page.content()  # no input hints on a page nobody edits
    page.click("a[href$='/history/']")
    assert page.locator("#change-history").is_visible()


def test_the_customer_filter_of_the_report_lists_searches_as_one_types(console, people, demo):
    page = console(people["support"])

    page.goto("/admin/telemetry/imuser/")
    page.click("text=筛选")
    page.click(".select2-selection")
    page.keyboard.type("0250017")
    page.click(".select2-results__option:has-text('0250017')")
    page.click("button:has-text('应用筛选')")
    page.wait_for_url("**customer__id__exact=*")
    customers = set(page.locator("#result_list td.field-customer_name").all_inner_texts())
    assert customers == {str(demo["0250017"])}
    assert page.problems == []


def test_a_superuser_adds_a_staff_member_on_one_page(console, people):
    page = console(people["superuser"])

    page.goto("/admin/auth/user/add/")
    page.fill("#id_username", "zhao-ops")
    page.fill("#id_first_name", "赵敏")
    page.fill("#id_password1", "a-long-pass-phrase-42")
    page.fill("#id_password2", "a-long-pass-phrase-42")
    page.select_option("#id_role", OPERATIONS)
    screenshot(page, "staff-add.png")
    page.click("[name=_save]")
    page.wait_for_load_state()

    from django.contrib.auth.models import User

    user = User.objects.get(username="zhao-ops")
    assert user.is_staff and [group.name for group in user.groups.all()] == [OPERATIONS]
    assert page.problems == []


def test_a_dashboard_figure_opens_its_filtered_list(console, people, fleet):
    page = console(people["operations"])
    expired = page.locator(".zw-fleet .zw-value a[href*='licence=expired']")
    assert expired.inner_text() == "1"

    expired.click()

    page.wait_for_url("**/admin/customers/customer/?licence=expired")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "0571001" in rows.first.inner_text()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_selecting_a_whole_list_states_its_count_as_the_list_does(console, people, fleet, monkeypatch, language):
    from alerts.admin import AlertAdmin
    from alerts.models import Alert, Rule, RuleKey

    rule, _ = Rule.objects.get_or_create(key=RuleKey.SILENT)
    for customer in fleet:
        Alert.objects.create(rule=rule, customer=customer, code=customer.code, since=timezone.now())
    monkeypatch.setattr(AlertAdmin, "list_per_page", 2)  # three alerts on two pages
    page = console(people["operations"], language)

    page.goto("/admin/alerts/alert/")
    page.check("#action-toggle")
    question = page.locator("#changelist-actions .question")
    question.wait_for()
    expected = {
        "zh": ("选中全部：3 条告警", "已选中全部：3 条告警"),
        "en": ("Select all: 3 alerts", "All selected: 3 alerts"),
    }
    assert question.inner_text().strip() == expected[language][0]
    screenshot(page, f"alerts-select-all-{language}-1440.png", full_page=False)
    question.click()
    assert page.locator("#changelist-actions .all").inner_text().strip() == expected[language][1]
    assert page.problems == []
