"""Reading the commit endpoints' parameters from the raw request (docs/protocol.md, "General").

Deployed servers send UTF-8, or GB18030 when they are old Windows machines,
percent-encoded or not, in the query string, a form body, a multipart body or
a JSON body. Django's ``request.GET``/``request.POST`` cannot be used: they
decode percent-escapes as UTF-8 with replacement characters (a GB18030
nickname would be stored as ``\\ufffd\\ufffd``) and refuse a form that declares
another charset. So the raw bytes are read here: percent-decoded first, then
decoded as strict UTF-8, else as GB18030, else refused with a 400. The choice
is made once for the whole query string or body, never field by field.

Speed matters (a batch of 50,000 users is about 9 MB of JSON, 13 MB once
form-encoded): percent-decoding goes through C (``codecs.escape_decode``)
instead of ``urllib``'s Python loop (~0.07 s instead of ~1.7 s), and JSON
through orjson.

So does what a hostile body can cost (docs/protocol.md, "Limits"): a form holds
at most ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields, a ``%`` not followed by two hex
digits is tolerated a bounded number of times, and a JSON text is measured
before it is parsed (``zwadmin.bounded_json``): a batch's worth of values at
most, never nested deeper than the parser can recurse.
"""

import codecs
import io
import json
import re
import urllib.parse
from http import HTTPStatus
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions

from zwadmin.bounded_json import MAX_DEPTH, JSONShapeError, check_shape
from zwadmin.client_address import client_ip
from zwadmin.drf import RequestTooLarge
from zwadmin.errors import DomainError

from .validators import FieldError, HugeNumber, clean_ip

_LATIN1 = "iso-8859-1"  # bytes <-> str one to one: how WSGI hands over the raw query string
_escape_decode = getattr(codecs, "escape_decode", None)


class UndecodableText(exceptions.ParseError):
    default_detail = _("The request is neither UTF-8 nor GB18030 text.")
    default_code = "undecodable_text"


class InvalidJSONBody(exceptions.ParseError):
    default_detail = _("The body is not valid JSON.")
    default_code = "invalid_json"


class InvalidJSON(Exception):
    """Not JSON at all (as opposed to JSON holding values the record rules refuse).

    ``message``, when set, is what the sender is told instead of the generic "not valid JSON".
    """

    def __init__(self, detail: str = "", message=None):
        super().__init__(detail)
        self.message = message


class MalformedPercentEncoding(exceptions.ParseError):
    default_detail = _("The request holds too many '%' characters that are not followed by two hex digits.")
    default_code = "malformed_percent_encoding"


class TooManyRecords(DomainError):
    """A batch over ``TELEMETRY_MAX_RECORDS`` records, or a JSON text holding more values than such a batch."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    field = "data"

    def __init__(self):
        super().__init__(
            _("A batch holds at most %(records)d records, and %(values)d JSON values in all.")
            % {"records": settings.TELEMETRY_MAX_RECORDS, "values": max_json_values()}
        )


# A record has 9 (user) or 10 (group) fields; a JSON text may hold this many values per record the batch may
# have (commas, brackets and braces counted, docs/protocol.md "Limits"), which leaves room for the fields the
# document does not name, for commas inside strings, and for the parameters around ``data``.
VALUES_PER_RECORD = 32
# How often a "%" that starts no escape is kept as it is ("100%"); past it, the body is refused (400). Each one
# costs a little Python work, so a body of millions of them would take seconds.
MAX_LITERAL_PERCENTS = 10_000
_LITERAL_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
# Any integer of more digits than this fits no field (an id as text holds 64 characters, a count 19 digits); it
# is kept as its digits, for the record rules to refuse alone, and never converted (Python refuses to convert
# integers of more than 4,300 digits, and converting long ones takes quadratic time).
_MAX_INTEGER_DIGITS = 80


def max_json_values() -> int:
    return VALUES_PER_RECORD * settings.TELEMETRY_MAX_RECORDS + 64


def max_json_containers() -> int:
    return 2 * settings.TELEMETRY_MAX_RECORDS + 64


def percent_decode(raw: bytes) -> bytes:
    """``application/x-www-form-urlencoded`` unescaping of raw bytes: ``+`` is a space, ``%XX`` a byte.

    Bytes that are not escaped (a server that sends GB18030 as is) pass through untouched;
    a ``%`` not followed by two hex digits stays literal, as ``urllib`` leaves it.
    """
    raw = raw.replace(b"+", b" ")
    if b"%" not in raw:
        return raw
    if _escape_decode is None:
        return urllib.parse.unquote_to_bytes(raw)
    if raw.count(b"%") * 3 <= len(raw):  # else some "%" cannot start an escape: no use trying
        try:
            return _unescape(raw)
        except ValueError:  # a "%" without two hex digits after it
            pass
    # Those "%" are kept as they are; the stretches between them hold only escapes, decoded in C.
    literals = []
    for match in _LITERAL_PERCENT.finditer(raw):
        literals.append(match.start())
        if len(literals) > MAX_LITERAL_PERCENTS:
            raise MalformedPercentEncoding()
    starts = [0, *(position + 1 for position in literals)]
    ends = [*literals, len(raw)]
    return b"%".join(_unescape(raw[start:end]) for start, end in zip(starts, ends, strict=True))


def _unescape(raw: bytes) -> bytes:
    # Every backslash escaped, then "%XX" turned into "\xXX": C does the rest. ValueError on a lone "%".
    return _escape_decode(raw.replace(b"\\", b"\\\\").replace(b"%", b"\\x"))[0]


def decode_text(*parts: bytes) -> list[str]:
    """All ``parts`` as strict UTF-8, else all as GB18030; :class:`UndecodableText` when neither fits."""
    try:
        return [part.decode("utf-8") for part in parts]
    except UnicodeDecodeError:
        pass
    try:
        return [part.decode("gb18030") for part in parts]
    except UnicodeDecodeError:
        raise UndecodableText() from None


def parse_urlencoded(raw: bytes) -> dict[str, str]:
    """A raw query string or form body as ``{name: value}``; the last of repeated names wins.

    More than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields is a 413, counted before the fields are split.
    """
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if limit is not None and raw.count(b"&") >= limit:
        raise RequestTooLarge()
    pairs = []
    start = 0
    while start <= len(raw):
        # Field by field, each value copied once: a 30 MB ``data`` is not held twice more as a chunk and its part.
        end = raw.find(b"&", start)
        end = len(raw) if end < 0 else end
        if end > start:
            equals = raw.find(b"=", start, end)
            equals = end if equals < 0 else equals
            pairs.append(percent_decode(raw[start:equals]))
            pairs.append(percent_decode(raw[equals + 1 : end]))
        start = end + 1
    texts = decode_text(*pairs)
    return dict(zip(texts[::2], texts[1::2], strict=True))


def load_json(value: bytes | str) -> Any:
    """Parse JSON with orjson; :class:`InvalidJSON` if it is not JSON.

    Measured first (``zwadmin.bounded_json``): a text that may hold more values than a batch of
    ``TELEMETRY_MAX_RECORDS`` records is :class:`TooManyRecords` (413), one nested deeper than
    ``MAX_DEPTH`` is :class:`InvalidJSON`; neither is parsed.

    orjson refuses a document holding a number it cannot represent (``1e400``, an integer beyond
    64 bits) and takes bytes only as UTF-8, so on failure the document is decoded (UTF-8, else
    GB18030) and handed to the standard library, which yields such numbers as values the record
    rules then refuse one record at a time, instead of the whole batch failing.
    """
    try:
        check_shape(value, max_values=max_json_values(), max_containers=max_json_containers())
    except JSONShapeError as error:
        if error.too_large:
            raise TooManyRecords() from None
        raise InvalidJSON(str(error), _("JSON nested more than %(max)d levels deep.") % {"max": MAX_DEPTH}) from None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        pass
    text = decode_text(value)[0] if isinstance(value, bytes) else value
    try:
        return json.loads(text.removeprefix("\ufeff"), parse_int=_parse_int)
    except (ValueError, RecursionError) as error:  # RecursionError: never, the depth is bounded above
        raise InvalidJSON(str(error)) from None


def _parse_int(digits: str) -> int | HugeNumber:
    return int(digits) if len(digits) <= _MAX_INTEGER_DIGITS else HugeNumber(digits)


def query_parameters(request) -> dict[str, str]:
    query = request.META.get("QUERY_STRING", "")
    try:
        raw = query.encode(_LATIN1)
    except UnicodeEncodeError:  # not from a WSGI server (ASGI hands over UTF-8-decoded text)
        raw = query.encode("utf-8")
    return parse_urlencoded(raw)


def content_length(request) -> int:
    """The body's size as the request declares it (``Content-Length``; 0 when absent or not a number).

    A chunked body has none: the production server's WSGI entry reads it and sets it (zwadmin/wsgi.py).
    """
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _read_body(request) -> bytes:
    length = content_length(request)
    if length > settings.TELEMETRY_MAX_BODY_BYTES:
        raise RequestTooLarge()
    upload_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # when set below TELEMETRY_MAX_BODY_BYTES
    if upload_limit is not None and length > upload_limit:
        raise RequestTooLarge()
    # Read, not ``request.body``: Django would keep the raw body for the whole request, 30 MB held through the
    # database work after it has been parsed.
    return request.read()


def _multipart_parameters(request, body: bytes) -> dict[str, str]:
    # Django's parser splits the parts; Latin-1 hands every field back byte for byte, so the text
    # decision (UTF-8, else GB18030) is still taken here over the raw bytes.
    try:
        fields, files = MultiPartParser(request.META, io.BytesIO(body), request.upload_handlers, _LATIN1).parse()
    except (MultiPartParserError, TooManyFieldsSent) as error:
        raise exceptions.ParseError(_("Malformed multipart body.")) from error
    except RequestDataTooBig:
        raise RequestTooLarge() from None
    raw = {name.encode(_LATIN1): fields[name].encode(_LATIN1) for name in fields}
    for name in files:  # ``data`` sent as a file upload
        raw.setdefault(name.encode(_LATIN1), files[name].read())
    texts = decode_text(*raw, *raw.values())
    return dict(zip(texts[: len(raw)], texts[len(raw) :], strict=True))


def body_parameters(request) -> dict[str, Any]:
    """The POST body's parameters, whatever the sender declared it to be.

    A JSON object gives its keys; a bare JSON array is the ``data`` of a batch commit.
    A body with no (or an unknown) content type is read as JSON when it looks like JSON,
    as a form otherwise.
    """
    body = _read_body(request)
    if not body.strip():
        return {}
    media_type = request.META.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        return _multipart_parameters(request, body)
    looks_like_json = body.lstrip()[:1] in (b"{", b"[") or body.startswith(codecs.BOM_UTF8)
    if (
        media_type == "application/json"
        or media_type.endswith("+json")
        or (media_type != "application/x-www-form-urlencoded" and looks_like_json)
    ):
        try:
            document = load_json(body)
        except InvalidJSON as error:
            raise InvalidJSONBody(error.message) from error
        if isinstance(document, list):
            return {"data": document}
        if not isinstance(document, dict):
            raise InvalidJSONBody(_("A JSON body must be an object, or the array of a batch."))
        return document
    return parse_urlencoded(body)


def commit_parameters(request) -> dict[str, Any]:
    """The query string's parameters, overridden by the body's non-empty ones on POST."""
    parameters: dict[str, Any] = query_parameters(request)
    if request.method == "POST":
        parameters.update((name, value) for name, value in body_parameters(request).items() if value not in (None, ""))
    return parameters


def client_address(request) -> str | None:
    """The sender's IP address as the whole project reads it (``zwadmin.client_address.client_ip``).

    ``NUM_PROXIES`` hops from the right of ``X-Forwarded-For``, ``REMOTE_ADDR`` when unset, so
    the stored sender agrees with the throttles and the login lockout; None if it is not an IP.
    """
    try:
        return clean_ip(client_ip(request) or "")
    except FieldError:
        return None


def ingest_key(request, parameters: dict[str, Any]) -> str | None:
    """The customer's ingest key a commit carries (docs/operations.md "Ingest keys"), if any.

    ``Authorization: Bearer <key>`` first, else the ``key`` parameter (query string or body), which
    servers that cannot set headers use. Only text counts: a JSON number or list is no key.
    """
    scheme, _sep, credentials = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    key = parameters.get("key")
    if type(key) is not str:
        return None
    return key.strip() or None
