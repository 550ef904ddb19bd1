"""Field rules of the customer registry (customers/validators.py)."""

import pytest
from django.core.exceptions import ValidationError

from customers.validators import normalize_mac, validate_customer_code, validate_host, validate_mac, validate_phone


@pytest.mark.parametrize("code", ["0513", "0513001", "051300100001", "000000000000"])
def test_customer_codes_of_4_to_12_digits_are_valid(code):
    validate_customer_code(code)


@pytest.mark.parametrize(
    "code",
    [
        "",
        "051",  # too short
        "0513001000012",  # too long
        "0513-001",
        "0513a01",
        " 0513001",
        "0513001 ",
        "0513001\n",  # a trailing newline is not a digit
        "٠٥١٣٠٠١",  # Arabic-Indic digits are not the ASCII digits clients send
        "０５１３００１",  # full-width digits neither
    ],
)
def test_customer_codes_that_are_not_4_to_12_ascii_digits_are_rejected(code):
    with pytest.raises(ValidationError):
        validate_customer_code(code)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("56:E8:F6:23:EF", "56:E8:F6:23:EF"),  # the vendor document's own five-group example
        ("56:e8:f6:23:ef", "56:E8:F6:23:EF"),
        ("56-E8-F6-23-EF", "56:E8:F6:23:EF"),
        ("56E8F623EF", "56:E8:F6:23:EF"),
        ("00:1a:2b:3c:4d:5e", "00:1A:2B:3C:4D:5E"),
        ("00-1A-2B-3C-4D-5E", "00:1A:2B:3C:4D:5E"),
        ("001a2b3c4d5e", "00:1A:2B:3C:4D:5E"),
        ("  00:1A:2B:3C:4D:5E  ", "00:1A:2B:3C:4D:5E"),
        ("00:1A:2B:FF:FE:3C:4D:5E", "00:1A:2B:FF:FE:3C:4D:5E"),  # EUI-64
        ("001A2BFFFE3C4D5E", "00:1A:2B:FF:FE:3C:4D:5E"),
    ],
)
def test_macs_are_normalised_to_upper_case_with_colons(raw, normalised):
    assert normalize_mac(raw) == normalised
    validate_mac(raw)


@pytest.mark.parametrize(
    "mac",
    [
        "56:E8:F6:23",  # four groups
        "00:1A:2B:3C:4D:5E:6F:70:81",  # nine groups
        "56:E8:F6:23:EG",  # not hex
        "56:E8:F6:23:E",
        "56E8F623E",  # odd number of digits
        "56:E8-F6:23:EF",  # mixed separators
        "56.E8.F6.23.EF",
        "56 E8 F6 23 EF",
        "56::E8:F6:23:EF",
        ":56:E8:F6:23:EF",
        "56:E8:F6:23:EF:",
        "56:E8:F6:23:\ufb00",  # "ﬀ" upper-cases to "FF" but is no hex digit
        "mac address",
    ],
)
def test_junk_is_not_a_mac(mac):
    with pytest.raises(ValidationError):
        normalize_mac(mac)
    with pytest.raises(ValidationError):
        validate_mac(mac)


def test_an_empty_mac_is_allowed_because_the_field_is_optional():
    validate_mac("")


@pytest.mark.parametrize(
    "host",
    [
        "61.155.85.77",
        "192.168.0.7",
        "::1",
        "2001:db8::7",
        "im.example.com",
        "im.example.com.",
        "xn--fiq228c.com",
        "localhost",
        "server-1.zhongwei.cn",
        "a" * 63 + ".com",
    ],
)
def test_hosts_may_be_ip_addresses_or_dns_names(host):
    validate_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "61.155.85",  # a broken IPv4 address, not a name
        "61.155.85.256",
        "1.2.3.4.5",
        "bad_host!",
        "bad_host",
        "-im.example.com",
        "im-.example.com",
        "im..example.com",
        ".",
        "im example.com",
        "im.example.com\n",
        "a" * 64 + ".com",
        ".".join(["abcdefghi"] * 26),  # 259 characters
        "http://im.example.com",
        "im.example.com:10003",
        "中威.com",
    ],
)
def test_junk_is_not_a_host(host):
    with pytest.raises(ValidationError):
        validate_host(host)


@pytest.mark.parametrize(
    "phone",
    ["15151390310", "+86 151 5139 0310", "0512-65810000", "(0512) 6581-0000", "0512-65810000#801", "110"],
)
def test_phone_numbers_are_digits_spaces_and_the_usual_signs(phone):
    validate_phone(phone)


@pytest.mark.parametrize(
    "phone",
    [
        "12",  # too short
        "1" * 33,  # too long
        "151 5139 0310 ext. 5",
        "phone: 15151390310",
        "15151390310\n",
        "---",
        "   ",
        "+()#",
    ],
)
def test_junk_is_not_a_phone_number(phone):
    with pytest.raises(ValidationError):
        validate_phone(phone)
