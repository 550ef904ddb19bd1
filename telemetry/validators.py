"""The protocol's field rules for what deployed servers commit, as plain fast functions.

A batch holds up to 50,000 records and a DRF serializer per record would take
seconds, so each record is checked here by a handful of small functions that
return the cleaned value or raise :class:`FieldError`. The rules
(docs/protocol.md, "General"):

- Counts: JSON numbers or decimal strings (``"178"``), whole, 0 to 2**63-1
  (PostgreSQL's bigint). Booleans are not numbers; a float is accepted only
  when it is whole (``178.0``).
- Dates: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS`` or ``YYYY/MM/DD`` (with or
  without the time); a time without a zone is China Standard Time.
- Text: at most the column's length, and never holding what PostgreSQL or the
  protocol refuses: NUL, unpaired surrogates, U+FFFD (the mark of text whose
  encoding was lost on the way).
- Keys (``code``, ``uuid``, ``gid``) are trimmed and may not be empty; the
  ids ``uuid``, ``gid`` and ``createrid`` may arrive as JSON integers.
- A record must carry every key of the document's table (a missing key is a
  rejection); text may be ``null`` (stored empty), ``ctime`` may be
  ``null`` or empty, numbers may not.
"""

import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.utils.ipv6 import clean_ipv6_address
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from customers.validators import CODE_MESSAGE, is_customer_code, normalize_mac

from .models import MAX_COUNT, ImGroup, ImUser, ServerReport

CHINA_STANDARD_TIME = ZoneInfo("Asia/Shanghai")

_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_DATE = re.compile(r"([0-9]{4})([-/])([0-9]{2})\2([0-9]{2})(?: ([0-9]{2}):([0-9]{2}):([0-9]{2}))?", re.ASCII)
_MAX_DIGITS = len(str(MAX_COUNT))


class FieldError(Exception):
    """One field's value breaks a rule: the message for the sender, translated when it is read (``str``).

    Raised with the untranslated message and its parameters: a batch of 50,000 junk records raises 450,000 of
    them, and translating each (tens of microseconds) took seconds; ``validate_records`` translates each
    distinct message once.
    """

    def __init__(self, message, **params):
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        text = gettext(self.message)
        return text % self.params if self.params else text

    def key(self) -> tuple:
        # A lazy message (customers.validators.CODE_MESSAGE) is one constant object: its identity is its key.
        message = self.message if isinstance(self.message, str) else id(self.message)
        return (message, *self.params.values())  # each message has its own, fixed parameters


class HugeNumber(str):
    """A JSON integer too long to fit any field, kept as its digits (``ingest_parsing.load_json``): never
    converted, since Python refuses integers of more than 4,300 digits and converting long ones is slow."""


Cleaner = Callable[[Any], Any]


def clean_count(value: Any) -> int:
    kind = type(value)  # exact types: bool is a subclass of int and is not a number here
    if kind is int:
        number = value
    elif kind is str:
        digits = value.strip()
        if not _DIGITS.fullmatch(digits):
            raise FieldError(gettext_noop("Enter a whole number of at least 0, e.g. 178."))
        digits = digits.lstrip("0") or "0"
        if len(digits) > _MAX_DIGITS:
            raise FieldError(gettext_noop("Ensure this number is at most %(max)d."), max=MAX_COUNT)
        number = int(digits)
    elif kind is float and value.is_integer():
        number = int(value)
    elif kind is HugeNumber:
        if value.startswith("-"):
            raise FieldError(gettext_noop("Ensure this number is at least 0."))
        raise FieldError(gettext_noop("Ensure this number is at most %(max)d."), max=MAX_COUNT)
    else:
        raise FieldError(gettext_noop("Enter a whole number of at least 0, e.g. 178."))
    if number < 0:
        raise FieldError(gettext_noop("Ensure this number is at least 0."))
    if number > MAX_COUNT:
        raise FieldError(gettext_noop("Ensure this number is at most %(max)d."), max=MAX_COUNT)
    return number


def _parse_moment(value: Any) -> tuple[datetime.date, datetime.time | None] | None:
    """``(date, time or None)``; None for an absent value (``null`` or empty)."""
    if value is None:
        return None
    if type(value) is not str:
        raise FieldError(gettext_noop("Enter a date as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS."))
    text = value.strip()
    if not text:
        return None
    match = _DATE.fullmatch(text)
    if match is None:
        raise FieldError(gettext_noop("Enter a date as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS."))
    year, _sep, month, day, hour, minute, second = match.groups()
    try:
        date = datetime.date(int(year), int(month), int(day))
        time = datetime.time(int(hour), int(minute), int(second)) if hour is not None else None
    except ValueError:
        raise FieldError(gettext_noop("Enter a real date and time, e.g. 2016-09-21.")) from None
    return date, time


def clean_date(value: Any) -> datetime.date | None:
    """A date; a time after it (``2016-09-21 00:00:00``) is accepted and dropped."""
    moment = _parse_moment(value)
    return None if moment is None else moment[0]


def clean_datetime(value: Any) -> datetime.datetime | None:
    """A moment in China Standard Time; a bare date is its midnight."""
    moment = _parse_moment(value)
    if moment is None:
        return None
    date, time = moment
    aware = datetime.datetime.combine(date, time or datetime.time(), tzinfo=CHINA_STANDARD_TIME)
    try:
        aware.astimezone(datetime.UTC)  # stored in UTC: 0001-01-01 00:00 in Shanghai is still year 0 there
    except OverflowError:
        raise FieldError(gettext_noop("Enter a real date and time, e.g. 2016-09-21.")) from None
    return aware


def _check_text(text: str, max_length: int) -> str:
    if len(text) > max_length:
        raise FieldError(gettext_noop("Ensure this value has at most %(max)d characters."), max=max_length)
    if "\x00" in text:
        raise FieldError(gettext_noop("Text may not contain NUL characters."))
    if not text.isascii():
        if "\ufffd" in text:
            raise FieldError(gettext_noop("Text holds U+FFFD: its encoding was lost before it was sent."))
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise FieldError(gettext_noop("Text holds an unpaired UTF-16 surrogate.")) from None
    return text


def text(max_length: int, *, key: bool = False, integers: bool = False) -> Cleaner:
    """A cleaner for text of at most ``max_length`` characters.

    ``key``: trimmed and required (``null``/empty refused); otherwise ``null`` is stored empty.
    ``integers``: a JSON integer is accepted as its decimal text (ids).
    """

    def clean(value: Any) -> str:
        kind = type(value)
        if kind is str:
            value = value.strip() if key else value
        elif integers and kind in (int, HugeNumber):
            value = str(value)
        elif value is None and not key:
            return ""
        else:
            raise FieldError(
                gettext_noop("Enter text.") if not integers else gettext_noop("Enter text or a whole number.")
            )
        if key and not value:
            raise FieldError(gettext_noop("This field may not be blank."))
        return _check_text(value, max_length)

    return clean


def clean_code(value: Any) -> str:
    if type(value) is not str:
        raise FieldError(gettext_noop('A customer code is text of 4 to 12 digits, e.g. "0513001".'))
    code = value.strip()
    if not is_customer_code(code):
        raise FieldError(CODE_MESSAGE)
    return code


def clean_mac(value: Any) -> str:
    """Upper case with ``:`` (``customers.validators.normalize_mac``); empty stays empty."""
    if value is None:
        return ""
    if type(value) is not str:
        raise FieldError(gettext_noop("Enter a MAC address of 5 to 8 hex pairs, e.g. 56:E8:F6:23:EF."))
    if not value.strip():
        return ""
    try:
        return normalize_mac(value)
    except ValidationError as error:
        raise FieldError(error.messages[0]) from None


def clean_ip(value: Any) -> str:
    """An IPv4 or IPv6 address, IPv6 in the form ``GenericIPAddressField`` stores."""
    address = value.strip() if type(value) is str else ""
    try:
        validate_ipv46_address(address)
    except ValidationError:
        raise FieldError(gettext_noop("Enter a valid IPv4 or IPv6 address.")) from None
    return clean_ipv6_address(address) if ":" in address else address


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


# Field order is the order of the cleaned tuple: the customer code, the key, then the stored values.
USER_FIELDS: tuple[tuple[str, Cleaner], ...] = (
    ("code", clean_code),
    ("uuid", text(_max_length(ImUser, "uuid"), key=True, integers=True)),
    ("nickname", text(_max_length(ImUser, "nickname"))),
    *((name, clean_count) for name in ImUser.FIGURES),
)
GROUP_FIELDS: tuple[tuple[str, Cleaner], ...] = (
    ("code", clean_code),
    ("gid", text(_max_length(ImGroup, "gid"), key=True, integers=True)),
    ("name", text(_max_length(ImGroup, "name"))),
    ("createrid", text(_max_length(ImGroup, "createrid"), integers=True)),
    ("creatername", text(_max_length(ImGroup, "creatername"))),
    ("ucount", clean_count),
    ("msgcount", clean_count),
    ("ctime", clean_datetime),
    ("fcount", clean_count),
    ("ncount", clean_count),
)
# The optional parameters of a server report: (name, cleaner, value when absent or empty).
SERVER_FIELDS: tuple[tuple[str, Cleaner, Any], ...] = (
    ("name", text(_max_length(ServerReport, "name")), ""),
    ("mac", clean_mac, ""),
    ("ip", clean_ip, None),
    ("timeout", clean_date, None),
    ("count", clean_count, 0),
    ("updatetimes", clean_count, 0),
)


def validate_records(
    items: list, fields: tuple[tuple[str, Cleaner], ...], *, detailed: int | None = None
) -> tuple[list[tuple[int, tuple]], list[dict[str, Any]]]:
    """Check every record of a batch.

    Returns ``(cleaned, rejected)``: ``cleaned`` holds ``(index, values)`` with the values in
    ``fields`` order; ``rejected`` holds ``{"index": i, "errors": {field: [message]}}``.

    ``detailed``: only the first so many rejected records get every reason; after them a record is rejected at
    its first bad field, with ``errors`` ``{}`` (an answer lists only the first rejections: the others need no
    reasons, and a batch of junk is checked several times faster).
    """
    cleaned: list[tuple[int, tuple]] = []
    rejected: list[dict[str, Any]] = []
    required = _("This field is required.")
    not_an_object = _("A record must be a JSON object.")
    messages: dict[tuple, str] = {}  # each distinct message translated once per batch
    for index, item in enumerate(items):
        if type(item) is not dict:
            rejected.append({"index": index, "errors": {"non_field_errors": [not_an_object]}})
            continue
        values = []
        errors = None
        brief = detailed is not None and len(rejected) >= detailed
        for name, clean in fields:
            try:
                values.append(clean(item[name]))
            except (KeyError, FieldError) as error:
                if brief:
                    errors = {}
                    break
                errors = errors or {}
                if isinstance(error, KeyError):
                    errors[name] = [required]
                    continue
                key = error.key()
                message = messages.get(key)
                if message is None:
                    message = messages[key] = str(error)
                errors[name] = [message]
        if errors is not None:
            rejected.append({"index": index, "errors": errors})
        else:
            cleaned.append((index, tuple(values)))
    return cleaned, rejected


def clean_server_report(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of one ``/api/server/commit``, cleaned; Django ``ValidationError`` naming each bad field.

    Only ``code`` is required: a server that leaves out its MAC or IP still reports that it runs.
    Absent text is stored empty, an absent IP or licence expiry as unknown, absent counts as 0.
    """
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    code = parameters.get("code")
    if code in (None, ""):
        errors["code"] = [_("This field is required.")]
    else:
        try:
            cleaned["code"] = clean_code(code)
        except FieldError as error:
            errors["code"] = [str(error)]
    for name, clean, default in SERVER_FIELDS:
        value = parameters.get(name)
        if value is None or (type(value) is str and not value.strip()):
            cleaned[name] = default
            continue
        try:
            cleaned[name] = clean(value)
        except FieldError as error:
            errors[name] = [str(error)]
    if errors:
        raise ValidationError(errors)
    return cleaned
