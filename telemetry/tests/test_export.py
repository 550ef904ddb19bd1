"""CSV and Excel export of the IM users and groups changelists (zwadmin.exports, telemetry.resources)."""

import csv
import datetime
import io
from http import HTTPStatus
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from telemetry.models import ImGroup, ImUser

pytestmark = pytest.mark.django_db

CST = ZoneInfo("Asia/Shanghai")
REPORTED = datetime.datetime(2024, 5, 1, 9, 30, tzinfo=CST)
CSV_FORMAT, XLSX_FORMAT = "0", "1"
CUSTOMER = "customer__id__exact"


def url(model, view) -> str:
    return reverse(f"admin:telemetry_{model._meta.model_name}_{view}")


def console(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # these tests read our own (English) column names
    client.force_login(user)
    return client


def export_form(page, file_format: str) -> dict:
    form = page.context["form"]
    data = {"format": file_format, "resource": "0"}
    data.update({name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)})
    if form.initial.get("export_items"):
        data["export_items"] = [str(pk) for pk in form.initial["export_items"]]
    return data


def export(client, model, file_format: str, query: dict | None = None):
    page = client.get(url(model, "export"), query or {})
    assert page.status_code == HTTPStatus.OK
    return client.post(page.wsgi_request.get_full_path(), export_form(page, file_format))


def csv_rows(response) -> list[dict]:
    assert response.status_code == HTTPStatus.OK
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def staff(make_staff):
    return console(make_staff("telemetry.view_imuser", "telemetry.view_imgroup"))


@pytest.fixture
def telemetry(make_customer):
    jiangsu = make_customer(code="0513001", name="江苏中威科技")
    suzhou = make_customer(code="0512002", name="苏州园区")
    for customer, uuid, nickname, fmsgs in (
        (jiangsu, "u-1", "龚超", 24),
        (jiangsu, "u-2", "=cmd|' /C calc'!A0", 3),
        (suzhou, "u-9", "宋卫南", 7),
    ):
        ImUser.objects.create(
            customer=customer,
            uuid=uuid,
            nickname=nickname,
            fmsgs=fmsgs,
            first_reported_at=REPORTED,
            last_reported_at=REPORTED,
        )
    for customer, gid, name in ((jiangsu, "g-1", "中威官方群"), (suzhou, "g-9", "园区群")):
        ImGroup.objects.create(
            customer=customer,
            gid=gid,
            name=name,
            creatername="施东海",
            ucount=12,
            ctime=REPORTED,
            first_reported_at=REPORTED,
            last_reported_at=REPORTED,
        )
    return {"jiangsu": jiangsu, "suzhou": suzhou}


def test_the_users_of_one_customer_export_as_csv_with_chinese_intact(staff, telemetry):
    rows = csv_rows(export(staff, ImUser, CSV_FORMAT, {CUSTOMER: telemetry["jiangsu"].pk}))

    assert [(row["Customer code"], row["User uuid"], row["Nickname"]) for row in rows] == [
        ("0513001", "u-1", "龚超"),
        ("0513001", "u-2", "'=cmd|' /C calc'!A0"),  # a nickname from a customer's server is never a formula
    ]
    assert rows[0]["Customer name"] == "江苏中威科技"
    assert rows[0]["Messages sent"] == "24"
    assert rows[0]["Last reported at"] == "2024-05-01 09:30:00"  # console time


def test_the_groups_export_as_xlsx_with_typed_cells(staff, telemetry):
    response = export(staff, ImGroup, XLSX_FORMAT, {"q": "园区"})

    assert response.status_code == HTTPStatus.OK
    header, *rows = openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    row = dict(zip(header, rows[0], strict=True))
    assert len(rows) == 1
    assert (row["Customer code"], row["Group id"], row["Group name"], row["Creator name"]) == (
        "0512002",
        "g-9",
        "园区群",
        "施东海",
    )
    assert row["Members"] == 12
    assert row["Created at"] == datetime.datetime(2024, 5, 1, 9, 30)


def test_selected_users_export_alone(staff, telemetry):
    chosen = ImUser.objects.filter(uuid__in=["u-1", "u-9"])
    page = staff.post(
        url(ImUser, "changelist"), {"action": "export_admin_action", "_selected_action": [u.pk for u in chosen]}
    )

    response = staff.post(url(ImUser, "export"), export_form(page, CSV_FORMAT))

    assert sorted(row["User uuid"] for row in csv_rows(response)) == ["u-1", "u-9"]


def test_exporting_users_needs_the_view_permission(make_staff, telemetry):
    client = console(make_staff("telemetry.view_imgroup"))

    assert client.get(url(ImUser, "export")).status_code == HTTPStatus.FORBIDDEN
    assert client.get(url(ImGroup, "export")).status_code == HTTPStatus.OK


def test_the_telemetry_lists_stay_read_only(staff, telemetry):
    page = staff.get(url(ImUser, "changelist"))
    actions = {name for name, _ in page.context["action_form"].fields["action"].choices if name}

    assert actions == {"export_admin_action"}
    assert page.context["has_add_permission"] is False
    assert reverse("admin:telemetry_imuser_export") in page.content.decode()


def test_characters_xlsx_cannot_hold_do_not_fail_the_export(staff, telemetry):
    ImUser.objects.filter(uuid="u-9").update(nickname="宋\x07卫南")

    response = export(staff, ImUser, XLSX_FORMAT, {CUSTOMER: telemetry["suzhou"].pk})

    assert response.status_code == HTTPStatus.OK
    header, row = openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    assert dict(zip(header, row, strict=True))["Nickname"] == "宋\ufffd卫南"
