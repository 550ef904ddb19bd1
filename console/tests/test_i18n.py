"""Chinese first: the console and the API speak Simplified Chinese by default, English when asked.

The suite runs in English (test_settings.LANGUAGE_CODE); these tests put back production's default
(zh-hans) and check that every kind of text comes out in Chinese without asking: labels, help texts,
fieldset titles, list columns, filters, actions, the dashboard, API errors, the login lockout, and
that a Chinese page shows no English word at all. A browser that asks for English (Accept-Language: en)
gets English. The committed catalog itself
(locale/zh_Hans) must be complete, consistent with its placeholders, and compiled.
"""

import gettext
import importlib.machinery
import importlib.util
import re
from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import Customer

pytestmark = pytest.mark.django_db

ZH = "zh-hans"
CATALOG = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
CJK = re.compile(r"[\u4e00-\u9fff]")

INDEX = reverse("admin:index")
CHANGELIST = reverse("admin:customers_customer_changelist")
ADD = reverse("admin:customers_customer_add")

# (English, Chinese) as each page shows them: the page must show the one of its language and not the other.
INDEX_TEXTS = [
    ("Zhongwei customer console", "中威通讯客户管理端"),
    ("Fleet and customer registry", "运行概况与客户登记"),
    ("Customer registry", "客户登记"),
    ("Fleet overview", "运行概况"),
    ("Accounts and security", "账号与安全"),
    ("Unregistered servers", "未登记服务器"),
    ("Needs attention", "需要处理"),
    ("Find a customer: code, name, MAC, host, contact", "查找客户：客户号、名称、MAC、地址、联系人"),
    # the dashboard
    (">Fleet<", ">运行概况<"),
    ("customers in the registry", "已登记客户"),
    ("reported in the last 24 hours", "24 小时内有上报"),
    ("never reported", "从未上报"),
    ("licences expired", "许可证已过期"),
    ("licences expiring within 30 days", "许可证 30 天内到期"),
    ("reported MAC or licence expiry differs from the registry", "上报的 MAC 或许可证到期日与登记不一致"),
    ("messages sent", "发送消息数"),
    ("Reports per day across the fleet", "全部客户每日上报次数"),
]
CHANGELIST_TEXTS = [
    # columns
    ("Customer code", "客户号"),
    ("Customer name", "客户名称"),
    ("Licence expiry", "许可证到期日"),
    ("Last report", "最近上报"),
    ("Endpoints", "服务地址"),
    ("Contact person", "联系人"),
    ("IM users and groups", "IM 用户与群组"),
    # filters and their choices
    ("By registry", "按登记状态"),
    ("By licence", "按许可证"),
    ("By reporting", "按上报状态"),
    ("By report differs from the registry", "按上报与登记不一致"),
    ("By service engineer", "按负责服务人员"),
    ("all, removed included", "全部（含已删除）"),
    ("expiring within 30 days", "30 天内到期"),
    ("live (reported within 48 hours)", "正常上报（48 小时内有上报）"),
    ("silent (no report for 48 hours)", "失联（48 小时以上无上报）"),
    # actions, and a cell
    ("Remove selected customers from the registry", "删除所选客户"),
    ("Restore selected customers to the registry", "恢复所选客户"),
    ("no expiry date", "无到期日"),
]
ADD_FORM_TEXTS = [
    # labels
    ('for="id_code">Customer code', 'for="id_code">客户号'),
    ('for="id_name">Customer name', 'for="id_name">客户名称'),
    ('for="id_mac">Licensed MAC', 'for="id_mac">授权 MAC'),
    ('for="id_tcphost">TCP server host', 'for="id_tcphost">TCP 服务器地址'),
    ('for="id_fileport">File server port', 'for="id_fileport">文件服务器端口'),
    ('for="id_timeout">Licence expiry', 'for="id_timeout">许可证到期日'),
    ('for="id_ctel">Contact phone', 'for="id_ctel">联系电话'),
    ('for="id_service_engineer">Service engineer', 'for="id_service_engineer">负责服务人员'),
    # help texts
    (
        "4 to 12 digits, e.g. 0513001. IM clients know only this.",
        "4 到 12 位数字，例如 0513001。IM 客户端只知道客户号。",
    ),
    ("Public IP or host name of the TCP_Server.", "TCP 服务器的外网映射 IP 或主机名。"),
    ("Our engineer responsible for this customer.", "我方负责该客户的服务人员。"),
    ("as returned by <code>/api/customer/info</code>.", "即 <code>/api/customer/info</code> 返回的内容。"),
    # fieldset titles
    ("Identity\n", "基本信息\n"),
    ("Endpoints\n", "服务地址\n"),
    ("Licence\n", "许可证\n"),
    ("Contact\n", "联系信息\n"),
    ("Record\n", "记录信息\n"),
]


@pytest.fixture(autouse=True)
def _production_default_language():
    """The default language of settings.py, which test_settings turns to English for the rest of the suite."""
    with override_settings(LANGUAGE_CODE=ZH):
        yield


@pytest.fixture
def console(admin_user):
    """The console as a browser that asks for no language in particular."""
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def fleet(make_customer):
    make_customer(code="0513001", name="江苏中威科技")
    make_customer(code="0512003", name="苏州工业园区管委会")


def assert_texts(html: str, texts, language: str):
    english = language == "en"
    shown = [ours if english else chinese for ours, chinese in texts]
    hidden = [chinese if english else ours for ours, chinese in texts]
    assert [text for text in shown if text not in html] == []
    assert [text for text in hidden if text in html] == []


@pytest.mark.parametrize("language", [ZH, "en"])
@pytest.mark.parametrize(
    ("path", "texts"),
    [(INDEX, INDEX_TEXTS), (CHANGELIST, CHANGELIST_TEXTS), (ADD, ADD_FORM_TEXTS)],
    ids=["index and dashboard", "customer list", "customer add form"],
)
def test_the_console_speaks_chinese_unless_the_browser_asks_for_english(console, fleet, path, texts, language):
    headers = {"HTTP_ACCEPT_LANGUAGE": "en"} if language == "en" else {}  # Chinese: nothing to ask for

    response = console.get(path, **headers)

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    assert_texts(html, texts, language)


def test_a_chinese_browser_gets_chinese_even_from_an_english_default(console, fleet):
    with override_settings(LANGUAGE_CODE="en"):
        html = console.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5").content.decode()

    assert_texts(html, CHANGELIST_TEXTS, ZH)


def test_messages_after_an_action_are_chinese(console, make_customer):
    customer = make_customer()

    response = console.post(
        CHANGELIST, {"action": "remove_selected", "_selected_action": [customer.pk], "confirm": "yes"}, follow=True
    )

    assert "已删除 1 个客户：0513001。可在“已删除的客户”中恢复。" in response.content.decode()


def test_the_lookup_without_a_code_answers_in_chinese_unless_asked_for_english():
    chinese = APIClient().get("/api/customer/info")
    english = APIClient().get("/api/customer/info", HTTP_ACCEPT_LANGUAGE="en")

    assert chinese.status_code == english.status_code == HTTPStatus.BAD_REQUEST
    assert chinese.json() == {"detail": "输入无效。", "errors": {"code": ["该字段是必填项。"]}}
    assert english.json() == {"detail": "Invalid input.", "errors": {"code": ["This field is required."]}}


def test_an_unknown_code_answers_in_chinese():
    response = APIClient().get("/api/customer/info", {"code": "0999999"})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["detail"] == "该客户号不存在。"


@pytest.mark.parametrize("body", ["json", "multipart"])
def test_adding_a_customer_with_a_bad_port_answers_in_chinese_unless_asked_for_english(staff_client, body):
    client = staff_client("customers.add_customer")
    data = {"code": "0513001", "name": "江苏中威科技", "tcpport": 70000, "mac": "56:E8"}
    post = {"format": "json"} if body == "json" else {}

    chinese = client.post("/customer/add", data, **post)
    english = client.post("/customer/add", data, HTTP_ACCEPT_LANGUAGE="en", **post)

    assert chinese.status_code == english.status_code == HTTPStatus.BAD_REQUEST
    assert chinese.json()["detail"] == "输入无效。"
    assert "65535" in chinese.json()["errors"]["tcpport"][0] and CJK.search(chinese.json()["errors"]["tcpport"][0])
    assert chinese.json()["errors"]["mac"] == ["请输入由 5 到 8 组两位十六进制数构成的 MAC 地址，例如 56:E8:F6:23:EF。"]
    assert english.json()["detail"] == "Invalid input."
    assert english.json()["errors"]["tcpport"] == ["Ensure this value is less than or equal to 65535."]
    assert english.json()["errors"]["mac"] == ["Enter a MAC address of 5 to 8 hex pairs, e.g. 56:E8:F6:23:EF."]


def test_the_login_lockout_says_why_in_chinese(django_user_model):
    django_user_model.objects.create_user("ops", password="right-password-1", is_staff=True)
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(f"{reverse('admin:login')}?next=/admin/", {"username": "ops", "password": "wrong"})

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "账户已锁定：登录失败次数过多，请稍后再试。" in response.content.decode()


# The committed catalog (bin/check-translations checks it against the code in CI; these need no gettext tools).


def read_catalog():
    """locale/zh_Hans/LC_MESSAGES/django.po, read by bin/check-translations' own reader."""
    path = settings.BASE_DIR / "bin" / "check-translations"
    loader = importlib.machinery.SourceFileLoader("check_translations", str(path))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module.read_po(CATALOG / "django.po")


@pytest.fixture(scope="module")
def catalog():
    entries = read_catalog()
    assert len(entries) > 200  # the parser read the file, not nothing
    return entries


def messages(catalog):
    return [(key, entry) for key, entry in catalog.items() if key[1]]  # the header's msgid is ""


def test_every_string_of_the_catalog_is_translated(catalog):
    empty = [key[1] for key, entry in messages(catalog) if not entry["msgstr"] or not all(entry["msgstr"])]
    fuzzy = [key[1] for key, entry in messages(catalog) if "fuzzy" in entry.get("flags", ())]

    assert empty == []
    assert fuzzy == []


def test_the_catalog_header_is_chinese_with_one_plural_form(catalog):
    header = catalog[(None, "")]

    assert "fuzzy" not in header.get("flags", ())
    assert "Language: zh_Hans\n" in header["msgstr"][0]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header["msgstr"][0]
    plurals = [entry for _, entry in messages(catalog) if entry.get("msgid_plural")]
    assert plurals and all(len(entry["msgstr"]) == 1 for entry in plurals)


PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{[^{}]*\}")


def test_every_translation_keeps_the_placeholders_of_its_string(catalog):
    wrong = []
    for (_, msgid), entry in messages(catalog):
        if "python-format" not in entry.get("flags", ()) and "python-brace-format" not in entry.get("flags", ()):
            continue
        expected = sorted(PLACEHOLDER.findall(entry.get("msgid_plural") or msgid))
        wrong += [(msgid, msgstr) for msgstr in entry["msgstr"] if sorted(PLACEHOLDER.findall(msgstr)) != expected]

    assert wrong == []


def test_the_committed_mo_is_compiled_from_the_committed_po(catalog):
    with (CATALOG / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog

    stale = []
    for (context, msgid), entry in messages(catalog):
        key = f"{context}\x04{msgid}" if context else msgid
        if entry.get("msgid_plural"):
            got = [compiled.get((key, 0))]
        else:
            got = [compiled.get(key)]
        if got != entry["msgstr"]:
            stale.append(msgid)

    assert stale == []


# Nothing left in English: a string the code forgot to mark for translation shows up here.


class VisibleText(HTMLParser):
    """The text a person reads on a page: text nodes outside scripts, styles, the theme's icon ligatures
    ("dashboard" drawn as an icon) and hidden parts, and title attributes."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    HIDDEN_TAGS = {"script", "style", "template", "kbd"}

    def __init__(self):
        super().__init__()
        self.stack = []  # (tag, hidden) of each open element
        self.texts = []

    @property
    def hidden(self):
        return any(hidden for _, hidden in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        hidden = (
            tag in self.HIDDEN_TAGS
            or "material-symbols-outlined" in classes
            or "hidden" in classes
            or attrs.get("aria-hidden") == "true"
            or "x-cloak" in attrs
        )
        if not self.hidden:
            self.texts += [value for name, value in attrs.items() if name in ("title", "placeholder") and value]
        if tag not in self.VOID:
            self.stack.append((tag, hidden))

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.texts.append(data)


# Latin words a Chinese page may show: protocol, server and platform names, the API path in a help text, the
# test's login, and django-axes' app, which has no verbose name to translate.
NOT_ENGLISH = {"MAC", "TCP", "WEB", "FILE", "TCP_Server", "WEB_Server", "FILE_Server", "UUID", "Android", "iOS"}
NOT_ENGLISH |= {"api", "customer", "info", "admin", "Axes", "API", "IM", "IP"}


@pytest.mark.parametrize(
    "path",
    [INDEX, CHANGELIST, ADD, reverse("admin:telemetry_serverreport_changelist"), "change"],
    ids=["index", "customer list", "customer add form", "report list", "customer change form"],
)
def test_a_chinese_page_shows_no_english_words(console, fleet, path):
    if path == "change":
        path = reverse("admin:customers_customer_change", args=[Customer.objects.get(code="0513001").pk])
    parser = VisibleText()
    parser.feed(console.get(path).content.decode())

    words = {word for text in parser.texts for word in re.findall(r"[A-Za-z][A-Za-z_]{2,}", text)}
    words = {word for word in words if not re.fullmatch("[a-f]+", word)}  # pieces of a UUID

    assert words - NOT_ENGLISH == set()
