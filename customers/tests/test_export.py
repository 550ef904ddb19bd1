"""CSV and Excel export of the customers changelist (zwadmin.exports, customers.resources)."""

import csv
import datetime
import io
from http import HTTPStatus

import openpyxl
import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.text import capfirst

from customers.models import Customer
from customers.services import customer_remove

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:customers_customer_changelist")
EXPORT = reverse("admin:customers_customer_export")
CSV_FORMAT, XLSX_FORMAT = "0", "1"


def export_form(page, file_format: str) -> dict:
    """What the export page in ``page`` posts with ``file_format`` chosen and every column ticked."""
    form = page.context["form"]
    data = {"format": file_format, "resource": "0"}
    for name, field in form.fields.items():
        if getattr(field, "is_selectable_field", False):
            data[name] = "on"
    if form.initial.get("export_items"):  # the export of selected rows
        data["export_items"] = [str(pk) for pk in form.initial["export_items"]]
    return data


def export(client, file_format: str, query: str = "") -> "HttpResponse":  # noqa: F821
    page = client.get(EXPORT + query)
    assert page.status_code == HTTPStatus.OK
    return client.post(EXPORT + query, export_form(page, file_format))


def csv_rows(response) -> list[dict]:
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[dict]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def column(field: str) -> str:
    with translation.override("en"):
        return str(capfirst(Customer._meta.get_field(field).verbose_name))


@pytest.fixture
def registry(make_customer):
    today = timezone.localdate()
    removed = make_customer(code="0513009", name="已删除客户")
    customer_remove(customer=removed)
    return {
        "ok": make_customer(
            code="0513001",
            name="江苏中威科技",
            contact="杨燕龙",
            ctel="15151390310",
            service_engineer="宋卫南",
            timeout=today + datetime.timedelta(days=365),
        ),
        "expired": make_customer(code="0571001", name="杭州客户", timeout=today - datetime.timedelta(days=1)),
        "unknown": make_customer(code="0571002", name="宁波客户"),
        "removed": removed,
    }


def test_the_changelist_offers_the_export(admin_client, registry):
    page = admin_client.get(CHANGELIST, {"licence": "expired"})

    assert f'href="{EXPORT}?licence=expired"' in page.content.decode()


def test_csv_export_of_the_changelist_is_what_it_lists_with_chinese_intact(admin_client, registry):
    response = export(admin_client, CSV_FORMAT)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customer-')
    rows = csv_rows(response)
    assert [row[column("code")] for row in rows] == ["0513001", "0571001", "0571002"]  # the removed one is not listed
    first = rows[0]
    assert first[column("name")] == "江苏中威科技"
    assert [first[column(name)] for name in ("contact", "ctel", "service_engineer")] == [
        "杨燕龙",
        "15151390310",
        "宋卫南",
    ]
    assert first[column("tcpport")] == "10003"
    assert first["Licence"] == "valid"


def test_export_follows_the_changelist_filters_and_search(admin_client, registry):
    assert [row[column("code")] for row in csv_rows(export(admin_client, CSV_FORMAT, "?licence=expired"))] == [
        "0571001"
    ]
    assert [row[column("code")] for row in csv_rows(export(admin_client, CSV_FORMAT, "?registry=removed"))] == [
        "0513009"
    ]
    assert [row[column("code")] for row in csv_rows(export(admin_client, CSV_FORMAT, "?q=中威"))] == ["0513001"]


def test_xlsx_export_keeps_codes_as_text_and_dates_as_dates(admin_client, registry):
    response = export(admin_client, XLSX_FORMAT, "?registry=all")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = {row[column("code")]: row for row in xlsx_rows(response)}
    assert set(rows) == {"0513001", "0513009", "0571001", "0571002"}  # leading zeros kept: text cells
    assert rows["0513001"][column("name")] == "江苏中威科技"
    assert rows["0513001"][column("tcpport")] == 10003
    assert rows["0571001"][column("timeout")].date() == registry["expired"].timeout
    removed_at = timezone.localtime(Customer.objects.get(code="0513009").removed_at).replace(tzinfo=None)
    assert abs(rows["0513009"][column("removed_at")] - removed_at) < datetime.timedelta(seconds=1)
    assert rows["0513001"][column("removed_at")] is None


def test_export_of_selected_rows_has_only_those(admin_client, registry):
    chosen = [registry["ok"], registry["unknown"]]
    page = admin_client.post(
        CHANGELIST, {"action": "export_admin_action", "_selected_action": [str(c.pk) for c in chosen]}
    )
    assert page.status_code == HTTPStatus.OK
    assert sorted(page.context["form"].initial["export_items"]) == sorted(c.pk for c in chosen)

    response = admin_client.post(EXPORT, export_form(page, CSV_FORMAT))

    assert [row[column("code")] for row in csv_rows(response)] == ["0513001", "0571002"]


def test_selected_rows_the_list_does_not_show_are_refused(admin_client, registry):
    selected = {"action": "export_admin_action", "_selected_action": [str(registry["ok"].pk)]}
    page = admin_client.post(CHANGELIST, selected)
    data = export_form(page, CSV_FORMAT)
    data["export_items"] = [str(registry["removed"].pk)]  # removed: not on the list the export was asked from

    response = admin_client.post(EXPORT, data)

    assert response.status_code == HTTPStatus.OK  # the form again, with its error
    assert response.context["form"].errors


def test_formulas_are_exported_as_text(admin_client, make_customer):
    make_customer(code="0513001", name='=HYPERLINK("http://example.invalid","x")')

    csv_name = csv_rows(export(admin_client, CSV_FORMAT))[0][column("name")]
    xlsx_name = xlsx_rows(export(admin_client, XLSX_FORMAT))[0][column("name")]

    assert csv_name == xlsx_name == '\'=HYPERLINK("http://example.invalid","x")'


def test_staff_who_may_view_customers_may_export_them(console_client, make_staff, registry):
    client = console_client(make_staff("customers.view_customer"))

    assert [row[column("code")] for row in csv_rows(export(client, CSV_FORMAT))] == ["0513001", "0571001", "0571002"]


def test_staff_who_may_not_view_customers_may_not_export_them(console_client, make_staff, registry):
    client = console_client(make_staff("telemetry.view_imuser"))

    assert client.get(EXPORT).status_code == HTTPStatus.FORBIDDEN
    assert client.post(EXPORT, {"format": CSV_FORMAT, "resource": "0"}).status_code == HTTPStatus.FORBIDDEN


def test_nothing_can_be_imported(admin_client):
    with pytest.raises(NoReverseMatch):
        reverse("admin:customers_customer_import")


def test_an_export_larger_than_the_limit_asks_to_filter_first(admin_client, registry, monkeypatch):
    monkeypatch.setattr(admin.site.get_model_admin(Customer), "export_max_rows", 2)

    too_many = export(admin_client, CSV_FORMAT)
    few_enough = export(admin_client, CSV_FORMAT, "?licence=expired")

    assert too_many.status_code == HTTPStatus.OK
    assert "text/html" in too_many["Content-Type"]
    assert "filter the list first" in " ".join(str(m) for m in too_many.context["messages"])
    assert few_enough["Content-Type"].startswith("text/csv")
