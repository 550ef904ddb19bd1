"""The per-customer lists /user/list and /group/list (docs/protocol.md, "Management interface")."""

import csv
import datetime
import io
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customers import services
from telemetry.models import ImGroup, ImUser
from telemetry.renderers import CSVRenderer

BOM = "\ufeff".encode()
USER_FIELDS = [
    "code",
    "uuid",
    "nickname",
    "onlinetime",
    "andtimes",
    "pctimes",
    "iostimes",
    "fmsgs",
    "tmsgs",
    "first_reported_at",
    "last_reported_at",
]
GROUP_FIELDS = [
    "code",
    "gid",
    "name",
    "createrid",
    "creatername",
    "ucount",
    "msgcount",
    "ctime",
    "fcount",
    "ncount",
    "first_reported_at",
    "last_reported_at",
]
REPORTED = datetime.datetime(2024, 5, 1, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture
def customer(make_customer):
    return make_customer(code="0513001", name="江苏中威科技")


@pytest.fixture
def make_user(customer):
    def make(uuid, nickname="", for_customer=None, **figures):
        return ImUser.objects.create(
            customer=for_customer or customer,
            uuid=uuid,
            nickname=nickname,
            first_reported_at=figures.pop("first_reported_at", REPORTED),
            last_reported_at=figures.pop("last_reported_at", REPORTED),
            **figures,
        )

    return make


@pytest.fixture
def make_group(customer):
    def make(gid, name="", for_customer=None, **figures):
        return ImGroup.objects.create(
            customer=for_customer or customer,
            gid=gid,
            name=name,
            first_reported_at=figures.pop("first_reported_at", REPORTED),
            last_reported_at=figures.pop("last_reported_at", REPORTED),
            **figures,
        )

    return make


def many_users(customer, count: int):
    ImUser.objects.bulk_create(
        ImUser(customer=customer, uuid=f"u-{n:05d}", fmsgs=n, first_reported_at=REPORTED, last_reported_at=REPORTED)
        for n in range(count)
    )


@pytest.fixture
def users_client(staff_client):
    return staff_client("telemetry.view_imuser")


@pytest.fixture
def groups_client(staff_client):
    return staff_client("telemetry.view_imgroup")


def uuids(response) -> list[str]:
    return [row["uuid"] for row in response.json()["results"]]


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content)
    assert content.startswith(BOM)
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


# What the lists answer


def test_user_list_answers_the_wire_fields_and_when_each_user_was_first_and_last_reported(users_client, make_user):
    make_user(
        "616b6865-7503-4d27-92c7-c6b94e1c8cc2",
        "龚超",
        onlinetime=345,
        andtimes=45,
        pctimes=120,
        iostimes=180,
        fmsgs=24,
        tmsgs=32,
        first_reported_at=REPORTED - datetime.timedelta(days=3),
    )

    response = users_client.get("/user/list", {"code": "0513001"})

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "code": "0513001",
            "uuid": "616b6865-7503-4d27-92c7-c6b94e1c8cc2",
            "nickname": "龚超",
            "onlinetime": 345,
            "andtimes": 45,
            "pctimes": 120,
            "iostimes": 180,
            "fmsgs": 24,
            "tmsgs": 32,
            "first_reported_at": "2024-04-28T17:30:00+08:00",
            "last_reported_at": "2024-05-01T17:30:00+08:00",
        }
    ]
    assert "龚超".encode() in response.content  # Chinese unescaped


def test_group_list_answers_the_wire_fields_and_when_each_group_was_first_and_last_reported(groups_client, make_group):
    make_group(
        "g-1",
        "中威官方群",
        createrid="36",
        creatername="施东海",
        ucount=178,
        msgcount=1878,
        ctime=datetime.datetime(2016, 8, 8, 16, 0, tzinfo=datetime.UTC),
        fcount=32,
        ncount=24,
    )

    response = groups_client.get("/group/list", {"code": "0513001"})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["results"] == [
        {
            "code": "0513001",
            "gid": "g-1",
            "name": "中威官方群",
            "createrid": "36",
            "creatername": "施东海",
            "ucount": 178,
            "msgcount": 1878,
            "ctime": "2016-08-09T00:00:00+08:00",
            "fcount": 32,
            "ncount": 24,
            "first_reported_at": "2024-05-01T17:30:00+08:00",
            "last_reported_at": "2024-05-01T17:30:00+08:00",
        }
    ]


def test_lists_hold_only_the_named_customers_rows(staff_client, make_customer, make_user, make_group):
    client = staff_client("telemetry.view_imuser", "telemetry.view_imgroup")
    other = make_customer(code="0512002", name="苏州")
    make_user("ours")
    make_user("theirs", for_customer=other)
    make_group("ours")
    make_group("theirs", for_customer=other)

    assert uuids(client.get("/user/list", {"code": "0513001"})) == ["ours"]
    groups = client.get("/group/list", {"code": "0512002"}).json()["results"]
    assert [row["gid"] for row in groups] == ["theirs"]


@pytest.mark.parametrize("path", ["/user/list/", "/group/list/"])
def test_trailing_slash_answers_without_redirect(staff_client, customer, path):
    client = staff_client("telemetry.view_imuser", "telemetry.view_imgroup")

    assert client.get(path, {"code": "0513001"}).status_code == HTTPStatus.OK


def test_token_authentication_works_for_scripts(make_staff, customer):
    token = Token.objects.create(user=make_staff("telemetry.view_imuser"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert client.get("/user/list", {"code": "0513001"}).status_code == HTTPStatus.OK


# Errors


@pytest.mark.parametrize("path", ["/user/list", "/group/list"])
@pytest.mark.parametrize("query", [{}, {"code": ""}, {"code": "  "}])
def test_missing_code_is_a_400_naming_code(staff_client, path, query):
    client = staff_client("telemetry.view_imuser", "telemetry.view_imgroup")

    response = client.get(path, query)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"detail", "errors"}
    assert list(response.json()["errors"]) == ["code"]


@pytest.mark.parametrize("path", ["/user/list", "/group/list"])
@pytest.mark.parametrize("code", ["0599999", "not-a-code", "0513001x"])
def test_unknown_code_is_a_404_naming_code(staff_client, customer, path, code):
    client = staff_client("telemetry.view_imuser", "telemetry.view_imgroup")

    response = client.get(path, {"code": code})

    assert response.status_code == HTTPStatus.NOT_FOUND
    body = response.json()
    assert body["detail"]
    assert list(body["errors"]) == ["code"]


def test_removed_customer_is_a_404_though_its_history_is_kept(users_client, customer, make_user):
    make_user("u-1")
    services.customer_remove(customer=customer)

    response = users_client.get("/user/list", {"code": "0513001"})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert list(response.json()["errors"]) == ["code"]
    assert ImUser.objects.filter(customer=customer).exists()


@pytest.mark.parametrize("path", ["/user/list", "/group/list"])
def test_anonymous_callers_are_refused(api_client, customer, path):
    response = api_client.get(path, {"code": "0513001"})

    assert response.status_code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
    assert set(response.json()) == {"detail", "errors"}


@pytest.mark.parametrize(
    ("path", "perm"),
    [
        ("/user/list", "telemetry.view_imgroup"),
        ("/group/list", "telemetry.view_imuser"),
        ("/user/list", "customers.view_customer"),
    ],
)
def test_staff_without_the_view_permission_of_the_list_is_refused(staff_client, customer, path, perm):
    assert staff_client(perm).get(path, {"code": "0513001"}).status_code == HTTPStatus.FORBIDDEN


def test_permission_is_checked_before_the_customer_is_looked_up(staff_client):
    response = staff_client("telemetry.view_imgroup").get("/user/list", {"code": "0599999"})

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_a_user_who_is_not_staff_is_refused_whatever_their_permissions(django_user_model, customer):
    user = django_user_model.objects.create_user(username="script", password="pw-for-tests-1")
    user.user_permissions.add(Permission.objects.get(codename="view_imuser"))
    client = APIClient()
    client.force_authenticate(user)

    assert client.get("/user/list", {"code": "0513001"}).status_code == HTTPStatus.FORBIDDEN


def test_an_invalid_filter_value_is_a_400_naming_the_filter(users_client, customer):
    response = users_client.get("/user/list", {"code": "0513001", "fmsgs__gte": "many"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["fmsgs__gte"]


# Ordering, search, pagination


@pytest.mark.parametrize("field", ImUser.FIGURES)
def test_users_order_by_every_figure_both_ways(users_client, make_user, field):
    for uuid, value in (("b", 20), ("a", 30), ("c", 10)):
        make_user(uuid, **{field: value})

    assert uuids(users_client.get("/user/list", {"code": "0513001", "ordering": field})) == ["c", "b", "a"]
    assert uuids(users_client.get("/user/list", {"code": "0513001", "ordering": f"-{field}"})) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (None, ["a", "b", "c"]),  # by uuid
        ("-uuid", ["c", "b", "a"]),
        ("nickname", ["c", "a", "b"]),
        ("-last_reported_at", ["b", "a", "c"]),
        ("first_reported_at", ["a", "c", "b"]),
    ],
)
def test_users_order_by_names_and_dates(users_client, make_user, ordering, expected):
    day = datetime.timedelta(days=1)
    make_user("a", "bob", first_reported_at=REPORTED, last_reported_at=REPORTED)
    make_user("b", "carol", first_reported_at=REPORTED + 2 * day, last_reported_at=REPORTED + 5 * day)
    make_user("c", "alice", first_reported_at=REPORTED + day, last_reported_at=REPORTED - day)
    query = {"code": "0513001"} | ({"ordering": ordering} if ordering else {})

    assert uuids(users_client.get("/user/list", query)) == expected


@pytest.mark.parametrize("field", [*ImGroup.FIGURES, "ctime", "name", "creatername", "last_reported_at"])
def test_groups_order_by_every_figure_names_and_dates(groups_client, make_group, field):
    base = datetime.datetime(2016, 8, 9, tzinfo=datetime.UTC)
    for gid, value in (("b", 2), ("a", 3), ("c", 1)):
        values = {
            "ctime": base + datetime.timedelta(days=value),
            "name": f"群{value}",
            "creatername": f"人{value}",
            "last_reported_at": REPORTED + datetime.timedelta(days=value),
        }
        make_group(gid, **{field: values.get(field, value)})

    def gids(ordering):
        response = groups_client.get("/group/list", {"code": "0513001", "ordering": ordering})
        return [row["gid"] for row in response.json()["results"]]

    assert gids(field) == ["c", "b", "a"]
    assert gids(f"-{field}") == ["a", "b", "c"]


def test_an_unknown_ordering_field_falls_back_to_the_default(users_client, make_user):
    make_user("b")
    make_user("a")

    assert uuids(users_client.get("/user/list", {"code": "0513001", "ordering": "customer__contact"})) == ["a", "b"]


@pytest.mark.parametrize(("term", "expected"), [("龚", ["u-1"]), ("U-2", ["u-2"]), ("u-", ["u-1", "u-2"])])
def test_users_are_searched_by_nickname_and_uuid(users_client, make_user, term, expected):
    make_user("u-1", "龚超")
    make_user("u-2", "施东海")

    assert uuids(users_client.get("/user/list", {"code": "0513001", "search": term})) == expected


@pytest.mark.parametrize(("term", "expected"), [("官方", ["g-1"]), ("G-2", ["g-2"]), ("施", ["g-2"])])
def test_groups_are_searched_by_name_gid_and_creator(groups_client, make_group, term, expected):
    make_group("g-1", "中威官方群", creatername="龚超")
    make_group("g-2", "销售部", creatername="施东海")

    response = groups_client.get("/group/list", {"code": "0513001", "search": term})

    assert [row["gid"] for row in response.json()["results"]] == expected


def test_users_are_paginated_fifty_to_a_page_by_default(users_client, customer):
    many_users(customer, 60)

    first = users_client.get("/user/list", {"code": "0513001"}).json()
    second = users_client.get("/user/list", {"code": "0513001", "page": 2}).json()

    assert first["count"] == 60
    assert len(first["results"]) == 50
    assert first["next"] and not first["previous"]
    assert len(second["results"]) == 10
    assert second["next"] is None


def test_page_size_is_chosen_by_the_caller_up_to_a_thousand(users_client, customer):
    many_users(customer, 1001)

    small = users_client.get("/user/list", {"code": "0513001", "page_size": 7}).json()
    capped = users_client.get("/user/list", {"code": "0513001", "page_size": 5000}).json()

    assert len(small["results"]) == 7
    assert capped["count"] == 1001
    assert len(capped["results"]) == 1000


def test_a_page_past_the_end_is_a_404(users_client, customer):
    many_users(customer, 3)

    assert users_client.get("/user/list", {"code": "0513001", "page": 9}).status_code == HTTPStatus.NOT_FOUND


def test_pages_of_equal_figures_neither_repeat_nor_skip_rows(users_client, customer):
    ImUser.objects.bulk_create(
        ImUser(customer=customer, uuid=f"u-{n}", fmsgs=7, first_reported_at=REPORTED, last_reported_at=REPORTED)
        for n in range(9)
    )
    seen = []
    for page in (1, 2, 3):
        query = {"code": "0513001", "ordering": "-fmsgs", "page_size": 3, "page": page}
        seen += uuids(users_client.get("/user/list", query))

    assert sorted(seen) == sorted(f"u-{n}" for n in range(9))


@pytest.mark.parametrize("rows", [3, 120])
def test_a_page_costs_the_customer_lookup_a_count_and_one_select_however_many_rows(
    users_client, customer, django_assert_num_queries, rows
):
    many_users(customer, rows)
    query = {"code": "0513001", "ordering": "-fmsgs", "fmsgs__gte": 1, "search": "u-", "page_size": 100}
    users_client.get("/user/list", query)  # the user's permissions are cached from here on

    with django_assert_num_queries(3) as captured:
        response = users_client.get("/user/list", query)

    assert response.status_code == HTTPStatus.OK
    assert not any("JOIN" in executed["sql"] for executed in captured.captured_queries)


def test_groups_page_costs_three_queries_too(groups_client, make_group, django_assert_num_queries):
    for n in range(5):
        make_group(f"g-{n}", f"群{n}")
    groups_client.get("/group/list", {"code": "0513001"})

    with django_assert_num_queries(3):
        assert groups_client.get("/group/list", {"code": "0513001"}).status_code == HTTPStatus.OK


# CSV export


def test_csv_export_is_utf8_with_a_bom_and_a_header_of_the_field_names(users_client, make_user):
    make_user("u-1", "龚超", fmsgs=24, tmsgs=32)

    response = users_client.get("/user/list", {"code": "0513001", "format": "csv"})

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    rows = csv_rows(response)
    assert rows[0] == USER_FIELDS
    assert rows[1] == ["0513001", "u-1", "龚超", "0", "0", "0", "0", "24", "32"] + ["2024-05-01 17:30:00"] * 2


def test_csv_export_is_named_after_the_customer_and_the_day(staff_client, customer):
    client = staff_client("telemetry.view_imuser", "telemetry.view_imgroup")
    today = timezone.localdate().isoformat()

    users = client.get("/user/list", {"code": "0513001", "format": "csv"})
    groups = client.get("/group/list", {"code": "0513001", "format": "csv"})

    assert users["Content-Disposition"] == f'attachment; filename="users-0513001-{today}.csv"'
    assert groups["Content-Disposition"] == f'attachment; filename="groups-0513001-{today}.csv"'


def test_csv_export_holds_every_filtered_row_not_one_page(users_client, customer, make_customer):
    many_users(customer, 1200)
    many_users(make_customer(code="0512002", name="苏州"), 5)

    response = users_client.get("/user/list", {"code": "0513001", "format": "csv", "page_size": 10, "page": 2})

    rows = csv_rows(response)
    assert len(rows) == 1 + 1200
    assert {row[0] for row in rows[1:]} == {"0513001"}


def test_csv_export_applies_filters_search_and_ordering(users_client, customer):
    many_users(customer, 100)
    query = {"code": "0513001", "format": "csv", "fmsgs__gte": 10, "fmsgs__lte": 19, "search": "u-0001"}

    rows = csv_rows(users_client.get("/user/list", query | {"ordering": "-fmsgs"}))

    assert [row[1] for row in rows[1:]] == [f"u-{n:05d}" for n in range(19, 9, -1)]


def test_group_csv_export_has_the_group_fields(groups_client, make_group):
    make_group("g-1", "中威官方群", creatername="施东海", ctime=datetime.datetime(2016, 8, 8, 16, tzinfo=datetime.UTC))
    make_group("g-2", "无创建时间")

    rows = csv_rows(groups_client.get("/group/list", {"code": "0513001", "format": "csv"}))

    assert rows[0] == GROUP_FIELDS
    assert rows[1][:8] == ["0513001", "g-1", "中威官方群", "", "施东海", "0", "0", "2016-08-09 00:00:00"]
    assert rows[2][7] == ""


def test_csv_is_also_chosen_by_the_accept_header(users_client, make_user):
    make_user("u-1")

    response = users_client.get("/user/list", {"code": "0513001"}, HTTP_ACCEPT="text/csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert len(csv_rows(response)) == 2


def test_csv_cells_that_excel_would_run_as_formulas_are_quoted(users_client, make_user):
    make_user("u-1", "=HYPERLINK(1)")
    make_user("u-2", "+1")

    rows = csv_rows(users_client.get("/user/list", {"code": "0513001", "format": "csv"}))

    assert [row[2] for row in rows[1:]] == ["'=HYPERLINK(1)", "'+1"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({}, HTTPStatus.BAD_REQUEST),
        ({"code": "0599999"}, HTTPStatus.NOT_FOUND),
        ({"code": "0513001", "fmsgs__gte": "x"}, HTTPStatus.BAD_REQUEST),
    ],
)
def test_csv_export_errors_are_json(users_client, customer, query, status):
    response = users_client.get("/user/list", query | {"format": "csv"})

    assert response.status_code == status
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert set(response.json()) == {"detail", "errors"}


def test_csv_export_needs_the_view_permission_too(staff_client, customer):
    response = staff_client("telemetry.view_imgroup").get("/user/list", {"code": "0513001", "format": "csv"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["Content-Type"] == "application/json; charset=utf-8"


def test_csv_export_costs_the_customer_lookup_and_one_select(users_client, customer, django_assert_num_queries):
    many_users(customer, 30)
    users_client.get("/user/list", {"code": "0513001"})

    with django_assert_num_queries(2):
        response = users_client.get("/user/list", {"code": "0513001", "format": "csv"})
        rows = csv_rows(response)

    assert len(rows) == 31


def test_csv_renderer_renders_a_page_of_rows_too():
    content = CSVRenderer().render({"results": [{"uuid": "u-1", "nickname": "龚超", "fmsgs": 24}]})

    assert content == BOM + "uuid,nickname,fmsgs\r\nu-1,龚超,24\r\n".encode()
