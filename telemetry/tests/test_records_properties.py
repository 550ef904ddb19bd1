"""Property tests of the record rules (telemetry.validators): any input is either stored faithfully or rejected
with an error naming a real field, and never raises.

Hypothesis draws records whose every value is sometimes right, sometimes nearly right (padded digits, whole
floats, other date forms) and sometimes anything JSON can hold; the expectations are written out here from
docs/protocol.md, independently of the cleaners.
"""

import datetime
import os
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from telemetry.models import MAX_COUNT, ImGroup, ImUser
from telemetry.services import group_batch_commit, user_batch_commit
from telemetry.validators import GROUP_FIELDS, SERVER_FIELDS, USER_FIELDS, clean_server_report, validate_records

CST = ZoneInfo("Asia/Shanghai")
KNOWN, UNKNOWN = "0513001", "0999999"
# Fresh examples on every run on a laptop; in CI (CI=true) the same ones every run, so a red build is a
# change's doing. No example database: nothing is written to the work tree.
COMMON = {"deadline": None, "database": None, "derandomize": bool(os.environ.get("CI"))}
PURE = settings(max_examples=300, **COMMON)
STORED = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], **COMMON)

# --- what JSON can hold, and values aimed at each rule's edges --------------------------------------------------

ODD_TEXT = st.sampled_from(["", " ", "\x00", "a\x00b", "\ufffd", "江苏\ufffd", "\ud800", "x\udfff", "𠮷", "\u3000"])
TEXT = st.text(max_size=8) | ODD_TEXT | st.text(min_size=60, max_size=130)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | TEXT
ANYTHING = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=4,
)
COUNT = (
    st.integers(min_value=-5, max_value=MAX_COUNT + 5)
    | st.integers(min_value=0, max_value=10**6).map(lambda n: f" {n:07d} ")
    | st.integers(min_value=0, max_value=10**21).map(str)
    | st.floats(min_value=-2.0, max_value=1e20).map(lambda f: float(round(f)))
    | st.sampled_from(["1.5", "-1", "1e3", "", " ", "+1", "١٢", "0x10"])
    | ANYTHING
)
IDENTIFIER = st.text(min_size=0, max_size=70) | st.integers() | ODD_TEXT | ANYTHING
CODE = st.sampled_from([KNOWN, f" {KNOWN} ", UNKNOWN, "513", "05a3001", KNOWN * 2]) | ANYTHING
MOMENT = (
    st.datetimes(min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31, 23, 59, 59)).flatmap(
        lambda moment: st.sampled_from(
            [f"{moment:%Y-%m-%d}", f"{moment:%Y-%m-%d %H:%M:%S}", f"{moment:%Y/%m/%d}", f" {moment:%Y-%m-%d} "]
        )
    )
    | st.sampled_from(["0001-01-01", "0001-01-01 08:06:00", "2016-02-30", "2016-9-21", "2016-09-21T00:00:00", ""])
    | st.none()
    | ANYTHING
)
VALID = {
    "code": st.sampled_from([KNOWN, f" {KNOWN} ", UNKNOWN]),
    "uuid": st.text(min_size=1, max_size=64).filter(str.strip) | st.integers(),
    "gid": st.text(min_size=1, max_size=64).filter(str.strip) | st.integers(),
    "createrid": st.text(max_size=64) | st.integers() | st.none(),
    "nickname": st.text(max_size=20) | st.none(),
    "name": st.text(max_size=20) | st.none(),
    "creatername": st.text(max_size=20) | st.none(),
    "ctime": st.dates().map(str) | st.none(),
}
VALID_COUNT = st.integers(min_value=0, max_value=MAX_COUNT) | st.integers(min_value=0, max_value=10**12).map(str)
ANY_VALUE = {
    "code": CODE,
    "uuid": IDENTIFIER,
    "gid": IDENTIFIER,
    "createrid": IDENTIFIER,
    "nickname": TEXT | ANYTHING,
    "name": TEXT | ANYTHING,
    "creatername": TEXT | ANYTHING,
    "ctime": MOMENT,
}


def records(fields):
    """Mostly valid records with a few values replaced by anything, a few keys dropped; or anything at all."""
    names = [name for name, _clean in fields]
    valid = st.fixed_dictionaries({name: VALID.get(name, VALID_COUNT) for name in names})
    change = st.sampled_from(names).flatmap(lambda name: st.tuples(st.just(name), ANY_VALUE.get(name, COUNT)))
    dropped = st.sets(st.sampled_from(names), max_size=1)
    extra = st.dictionaries(st.text(max_size=6), SCALARS, max_size=2)

    def build(parts):
        record, changes, drops, extras = parts
        record = {**extras, **record, **dict(changes)}
        return {name: value for name, value in record.items() if name not in drops}

    changes = st.just([]) | st.lists(change, min_size=1, max_size=2)
    structured = st.tuples(valid, changes, st.just(set()) | dropped, extra).map(build)
    return st.integers(0, 9).flatmap(lambda roll: ANYTHING if roll == 0 else structured)


# --- the rules, written out ---------------------------------------------------------------------------------------

_DATE = re.compile(r"([0-9]{4})([-/])([0-9]{2})\2([0-9]{2})(?: ([0-9]{2}):([0-9]{2}):([0-9]{2}))?", re.ASCII)


def _text_ok(text: str, max_length: int) -> bool:
    return (
        len(text) <= max_length
        and "\x00" not in text
        and "\ufffd" not in text
        and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    )


def expected(model, name: str, raw):
    """What the protocol stores for ``raw`` in field ``name``; ``REJECT`` when it must be refused."""
    if name == "code":
        return raw.strip() if type(raw) is str and re.fullmatch(r"[0-9]{4,12}", raw.strip(), re.ASCII) else REJECT
    if name in ("uuid", "gid", "createrid"):
        if type(raw) is int:
            raw = str(raw)
        elif raw is None and name == "createrid":
            return ""
        elif type(raw) is not str:
            return REJECT
        value = raw.strip() if name != "createrid" else raw
        if name != "createrid" and not value:
            return REJECT
        return value if _text_ok(value, model._meta.get_field(name).max_length) else REJECT
    if name in ("nickname", "name", "creatername"):
        if raw is None:
            return ""
        return raw if type(raw) is str and _text_ok(raw, model._meta.get_field(name).max_length) else REJECT
    if name == "ctime":
        if raw is None or (type(raw) is str and not raw.strip()):
            return None
        match = _DATE.fullmatch(raw.strip()) if type(raw) is str else None
        if match is None:
            return REJECT
        year, _sep, month, day, hour, minute, second = match.groups()
        try:
            moment = datetime.datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=CST
            )
            moment.astimezone(datetime.UTC)
        except (ValueError, OverflowError):
            return REJECT
        return moment
    # a count
    if type(raw) is int:
        number = raw
    elif type(raw) is float and raw.is_integer():
        number = int(raw)
    elif type(raw) is str and re.fullmatch(r"[0-9]+", raw.strip(), re.ASCII):
        number = int(raw.strip())
    else:
        return REJECT
    return number if 0 <= number <= MAX_COUNT else REJECT


REJECT = object()
KINDS = [
    pytest.param(ImUser, USER_FIELDS, user_batch_commit, id="users"),
    pytest.param(ImGroup, GROUP_FIELDS, group_batch_commit, id="groups"),
]


def check_batch(model, fields, items):
    """Run the validator over ``items`` and check every outcome against the rules; the cleaned records."""
    names = [name for name, _clean in fields]
    cleaned, rejected = validate_records(items, fields)

    outcomes = {index: values for index, values in cleaned}
    for entry in rejected:
        assert entry["index"] not in outcomes
        assert entry["errors"] and set(entry["errors"]) <= {*names, "non_field_errors"}
        assert all(isinstance(m, str) and m for messages in entry["errors"].values() for m in messages)
        outcomes[entry["index"]] = entry["errors"]
    assert sorted(outcomes) == list(range(len(items)))

    for index, item in enumerate(items):
        outcome = outcomes[index]
        if type(item) is not dict:
            assert set(outcome) == {"non_field_errors"}
            continue
        wanted = {name: expected(model, name, item[name]) if name in item else REJECT for name in names}
        bad = {name for name, value in wanted.items() if value is REJECT}
        if bad:
            assert isinstance(outcome, dict) and set(outcome) == bad, (item, outcome)
        else:
            assert tuple(wanted.values()) == outcome, item
    return cleaned


@pytest.mark.parametrize(("model", "fields", "commit"), KINDS)
def test_any_batch_is_cleaned_by_the_rules_or_rejected_naming_the_fields(model, fields, commit):
    @PURE
    @given(st.lists(records(fields), max_size=6))
    def check(items):
        check_batch(model, fields, items)

    check()


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "fields", "commit"), KINDS)
def test_what_is_accepted_is_stored_exactly_and_nothing_raises(make_customer, model, fields, commit):
    customer = make_customer(code=KNOWN)
    names = [name for name, _clean in fields]

    @STORED
    @given(st.lists(records(fields), max_size=5))
    def check(items):
        cleaned = check_batch(model, fields, items)
        result = commit(records=items)

        stored_indexes = {index for index, values in cleaned if values[0] == KNOWN}
        event("some records stored" if stored_indexes else "nothing stored")
        assert result.accepted == len(stored_indexes)
        assert {entry["index"] for entry in result.rejected} == set(range(len(items))) - stored_indexes
        latest = {values[1]: values for index, values in cleaned if index in stored_indexes}  # the later one wins
        for key, values in latest.items():
            row = model.objects.filter(customer=customer, **{names[1]: key}).values(*names[2:]).get()
            assert tuple(row.values()) == values[2:]

    check()


SERVER_PARAMETERS = ["code", *(name for name, _clean, _default in SERVER_FIELDS)]


@PURE
@given(
    st.dictionaries(
        st.sampled_from([*SERVER_PARAMETERS, "other"]),
        st.text(max_size=30) | ODD_TEXT | COUNT | MOMENT | st.sampled_from(["56:e8:f6:23:ef", "192.168.0.7", "::1"]),
    )
)
def test_a_server_report_is_cleaned_or_refused_naming_real_parameters(parameters):
    try:
        report = clean_server_report(parameters)
    except ValidationError as error:
        assert set(error.message_dict) <= set(SERVER_PARAMETERS)
        assert all(error.message_dict.values())
    else:
        assert set(report) == set(SERVER_PARAMETERS)
        assert report["code"] == parameters["code"].strip()
        for name in ("count", "updatetimes"):
            raw = parameters.get(name)
            absent = raw is None or (type(raw) is str and not raw.strip())
            assert report[name] == (0 if absent else expected(ImUser, "fmsgs", raw))
        raw_name = parameters.get("name")
        assert report["name"] == (
            "" if raw_name is None or (type(raw_name) is str and not raw_name.strip()) else raw_name
        )
