"""Field rules of the customer registry, shared by the model, the API and ingestion.

- Customer code: 4 to 12 ASCII digits (``0513001`` is an area code plus a
  sequence number). Leading zeros matter, so it is text, never a number.
- MAC: 5 to 8 groups of two hex digits separated by ``:`` or ``-`` (or none);
  kept upper case with ``:``. Five groups because the vendor's own example is
  ``56:E8:F6:23:EF``; eight for EUI-64.
- Host: an IPv4/IPv6 address or a DNS name.
- Phone: digits, spaces, ``+``, ``-``, parentheses and ``#`` extensions.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, validate_ipv46_address
from django.utils.translation import gettext_lazy as _

# The customer code, defined once: the model's validator and database constraint, the commits' record rules,
# the lookup's fast path and the OpenAPI schema are all built from CODE_DIGITS.
CODE_DIGITS = "[0-9]{4,12}"
CODE_PATTERN = rf"\A{CODE_DIGITS}\Z"
CODE_MESSAGE = _("A customer code is 4 to 12 digits, e.g. 0513001.")
validate_customer_code = RegexValidator(CODE_PATTERN, CODE_MESSAGE)
_CODE = re.compile(CODE_PATTERN)


def is_customer_code(value: str) -> bool:
    return bool(_CODE.match(value))


# \A…\Z, never ^…$: "$" also matches before a trailing newline.
_MAC_GROUPS = re.compile(r"\A[0-9A-F]{2}([:-])[0-9A-F]{2}(?:\1[0-9A-F]{2}){3,6}\Z")  # one separator throughout
_MAC_BARE = re.compile(r"\A(?:[0-9A-F]{2}){5,8}\Z")

_HOST_LABEL = re.compile(r"\A(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")

validate_phone = RegexValidator(
    r"\A(?=(?:[^0-9]*[0-9]){3})[0-9+()#\- ]{3,32}\Z",  # at least three digits
    _("A phone number is 3 to 32 digits, spaces and + - ( ) #."),
)


def normalize_mac(value: str) -> str:
    """Upper case, ``:``-separated; raises ValidationError for anything that is not a MAC."""
    text = (value or "").strip()
    # ASCII first: "\ufb00".upper() is "FF".
    text = text.upper() if text.isascii() else ""
    if _MAC_BARE.match(text):
        return ":".join(text[i : i + 2] for i in range(0, len(text), 2))
    if _MAC_GROUPS.match(text):
        return text.replace("-", ":")
    raise ValidationError(_("Enter a MAC address of 5 to 8 hex pairs, e.g. 56:E8:F6:23:EF."), code="invalid_mac")


def validate_mac(value: str) -> None:
    if value:
        normalize_mac(value)


def validate_host(value: str) -> None:
    """An IP address or a DNS name (RFC 1123 labels, 253 characters at most)."""
    if not value:
        return
    try:
        validate_ipv46_address(value)
        return
    except ValidationError:
        pass
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    if (
        len(name) > 253
        or not all(_HOST_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()  # "61.155.85" is a broken IP, not a name
    ):
        raise ValidationError(
            _("Enter an IP address or a host name, e.g. 61.155.85.77 or im.example.com."), code="invalid_host"
        )
