"""The filters of /user/list and /group/list: one line per filter, as NetBox's filterset tests.

Ranges are ``<figure>__gte`` / ``<figure>__lte`` (inclusive); times without a zone are China
Standard Time.
"""

import datetime
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from telemetry.filters import ImGroupFilterSet, ImUserFilterSet
from telemetry.models import ImGroup, ImUser

CST = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=CST)


@pytest.fixture
def customer(make_customer):
    return make_customer(code="0513001")


@pytest.fixture
def users(customer):
    """Three users whose every figure is 10, 20 and 30; last reported on 10 May, 5 May and 1 April."""
    for number, nickname, last in (
        (1, "龚超", at(2024, 5, 10, 9)),
        (2, "施东海", at(2024, 5, 5)),
        (3, "Alice", at(2024, 4, 1)),
    ):
        ImUser.objects.create(
            customer=customer,
            uuid=f"u-{number}",
            nickname=nickname,
            first_reported_at=at(2024, 1, 1),
            last_reported_at=last,
            **dict.fromkeys(ImUser.FIGURES, number * 10),
        )


@pytest.fixture
def groups(customer):
    """Three groups whose every figure is 10, 20 and 30, created on 9 and 10 August 2016 (and unknown)."""
    for number, name, creator, ctime, last in (
        (1, "中威官方群", "施东海", at(2016, 8, 9), at(2024, 5, 10, 9)),
        (2, "销售部", "龚超", at(2016, 8, 10, 0, 30), at(2024, 5, 5)),  # still 9 August in UTC
        (3, "Support", "Alice", None, at(2024, 4, 1)),
    ):
        ImGroup.objects.create(
            customer=customer,
            gid=f"g-{number}",
            name=name,
            createrid=str(35 + number),
            creatername=creator,
            ctime=ctime,
            first_reported_at=at(2024, 1, 1),
            last_reported_at=last,
            **dict.fromkeys(ImGroup.FIGURES, number * 10),
        )


def user_uuids(params) -> set[str]:
    filterset = ImUserFilterSet(params, queryset=ImUser.objects.all())
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("uuid", flat=True))


def group_gids(params) -> set[str]:
    filterset = ImGroupFilterSet(params, queryset=ImGroup.objects.all())
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("gid", flat=True))


USER_FILTERS = [
    ({}, {"u-1", "u-2", "u-3"}),
    ({"nickname": "超"}, {"u-1"}),
    ({"nickname": "alice"}, {"u-3"}),  # contains, any case
    ({"uuid": "u-2"}, {"u-2"}),
    ({"uuid": "u-"}, set()),  # exact
    *[({figure: 20}, {"u-2"}) for figure in ImUser.FIGURES],
    *[({f"{figure}__gte": 20}, {"u-2", "u-3"}) for figure in ImUser.FIGURES],
    *[({f"{figure}__lte": 20}, {"u-1", "u-2"}) for figure in ImUser.FIGURES],
    ({"fmsgs__gte": 15, "fmsgs__lte": 25}, {"u-2"}),
    ({"reported_since": "2024-05-05"}, {"u-1", "u-2"}),  # inclusive
    ({"reported_since": "2024-05-10 09:00:01"}, set()),
    ({"reported_since": "2024-05-10T01:00:00Z"}, {"u-1"}),  # a zone, when given, is honoured
    ({"reported_before": "2024-05-05"}, {"u-3"}),  # exclusive
    ({"reported_since": "2024-04-01", "reported_before": "2024-05-06"}, {"u-2", "u-3"}),
]

GROUP_FILTERS = [
    ({}, {"g-1", "g-2", "g-3"}),
    ({"name": "官方"}, {"g-1"}),
    ({"name": "SUPPORT"}, {"g-3"}),
    ({"creatername": "施"}, {"g-1"}),
    ({"gid": "g-2"}, {"g-2"}),
    ({"createrid": "38"}, {"g-3"}),
    *[({figure: 20}, {"g-2"}) for figure in ImGroup.FIGURES],
    *[({f"{figure}__gte": 20}, {"g-2", "g-3"}) for figure in ImGroup.FIGURES],
    *[({f"{figure}__lte": 20}, {"g-1", "g-2"}) for figure in ImGroup.FIGURES],
    ({"ctime__gte": "2016-08-10"}, {"g-2"}),  # days in China Standard Time
    ({"ctime__lte": "2016-08-09"}, {"g-1"}),  # inclusive
    ({"ctime__gte": "2016-08-09", "ctime__lte": "2016-08-10"}, {"g-1", "g-2"}),
    ({"reported_since": "2024-05-05"}, {"g-1", "g-2"}),
    ({"reported_before": "2024-05-05"}, {"g-3"}),
]


@pytest.mark.parametrize(("params", "expected"), USER_FILTERS, ids=[str(params) for params, _ in USER_FILTERS])
def test_user_filter(users, params, expected):
    assert user_uuids(params) == expected


@pytest.mark.parametrize(("params", "expected"), GROUP_FILTERS, ids=[str(params) for params, _ in GROUP_FILTERS])
def test_group_filter(groups, params, expected):
    assert group_gids(params) == expected


@pytest.mark.parametrize(
    "params",
    [{"fmsgs__gte": "many"}, {"onlinetime": "1e"}, {"reported_since": "yesterday"}],
)
def test_user_filter_rejects_values_of_the_wrong_kind(params):
    assert not ImUserFilterSet(params, queryset=ImUser.objects.none()).is_valid()


@pytest.mark.parametrize("params", [{"ucount__lte": "x"}, {"ctime__gte": "2016-13-01"}])
def test_group_filter_rejects_values_of_the_wrong_kind(params):
    assert not ImGroupFilterSet(params, queryset=ImGroup.objects.none()).is_valid()


@pytest.fixture
def reported_days_ago(users, groups):
    """u-1/g-1 reported 1 day ago, u-2/g-2 6 days ago, u-3/g-3 8 days ago."""
    for number, days in ((1, 1), (2, 6), (3, 8)):
        last = timezone.now() - datetime.timedelta(days=days)
        ImUser.objects.filter(uuid=f"u-{number}").update(last_reported_at=last)
        ImGroup.objects.filter(gid=f"g-{number}").update(last_reported_at=last)


@pytest.mark.parametrize(
    ("value", "expected"), [("true", {"u-3"}), ("false", {"u-1", "u-2"}), ("", {"u-1", "u-2", "u-3"})]
)
def test_stale_users_are_those_not_reported_for_seven_days(reported_days_ago, value, expected):
    assert user_uuids({"stale": value}) == expected


@pytest.mark.parametrize(("value", "expected"), [("true", {"g-3"}), ("false", {"g-1", "g-2"})])
def test_stale_groups_are_those_not_reported_for_seven_days(reported_days_ago, value, expected):
    assert group_gids({"stale": value}) == expected


def test_stale_days_are_a_setting(reported_days_ago, settings):
    settings.TELEMETRY_STALE_DAYS = 3

    assert user_uuids({"stale": "true"}) == {"u-2", "u-3"}
    assert group_gids({"stale": "false"}) == {"g-1"}


@pytest.mark.parametrize(
    ("days", "language", "label"),
    [
        (3, "en", "not reported in the last 3 days"),
        (1, "en", "not reported in the last 1 day"),
        (3, "zh-hans", "最近 3 天内未上报"),
    ],
)
def test_the_stale_filter_says_how_many_days(settings, days, language, label):
    settings.TELEMETRY_STALE_DAYS = days

    with translation.override(language):
        assert ImUserFilterSet(queryset=ImUser.objects.none()).form["stale"].label == label


# Through the lists: the filtersets are wired to the views, with the customer's rows only.


@pytest.fixture
def client(staff_client):
    return staff_client("telemetry.view_imuser", "telemetry.view_imgroup")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"nickname": "超"}, ["u-1"]),
        ({"tmsgs__gte": 20, "tmsgs__lte": 30, "ordering": "-tmsgs"}, ["u-3", "u-2"]),
        ({"reported_before": "2024-05-05"}, ["u-3"]),
    ],
)
def test_user_list_applies_the_filters(client, users, make_customer, query, expected):
    other = make_customer(code="0512002", name="苏州")
    ImUser.objects.create(
        customer=other, uuid="u-1", nickname="龚超", first_reported_at=at(2024, 1, 1), last_reported_at=at(2024, 1, 1)
    )

    response = client.get("/user/list", {"code": "0513001", **query})

    assert response.status_code == HTTPStatus.OK
    assert [row["uuid"] for row in response.json()["results"]] == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"creatername": "龚"}, ["g-2"]),
        ({"ctime__lte": "2016-08-09"}, ["g-1"]),
        ({"msgcount__gte": 20, "ordering": "-msgcount"}, ["g-3", "g-2"]),
    ],
)
def test_group_list_applies_the_filters(client, groups, query, expected):
    response = client.get("/group/list", {"code": "0513001", **query})

    assert response.status_code == HTTPStatus.OK
    assert [row["gid"] for row in response.json()["results"]] == expected


def test_stale_filter_through_the_list(client, reported_days_ago):
    response = client.get("/user/list", {"code": "0513001", "stale": "true"})

    assert [row["uuid"] for row in response.json()["results"]] == ["u-3"]
