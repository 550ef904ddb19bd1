"""``zwadmin.bounded_json``: a JSON text is measured before it is parsed, in C, whatever its size."""

import json

import pytest

from zwadmin.bounded_json import MAX_DEPTH, JSONShapeError, check_shape, depth

LIMITS = {"max_values": 100, "max_containers": 10}


@pytest.mark.parametrize(
    "text",
    [b"[]", b'{"data": [{"code": "0513001", "n": "a,[b"}]}', '["龚超", 1, null]', b"", b"0"],
)
def test_what_a_request_holds_passes(text):
    check_shape(text, **LIMITS)


@pytest.mark.parametrize(
    ("text", "too_large"),
    [
        (b"[" + b"0," * 100 + b"0]", True),  # values
        (b"[" + b"{}," * 10 + b"{}]", True),  # objects and arrays
        (b"]" * 11, True),  # closers count too: a text of them is not JSON
        (b"[" * (MAX_DEPTH + 1), False),
    ],
)
def test_a_text_over_a_limit_is_refused(text, too_large):
    limits = {"max_values": 10**6, "max_containers": 10**6} if not too_large else LIMITS

    with pytest.raises(JSONShapeError) as refused:
        check_shape(text, **limits)

    assert refused.value.too_large is too_large


def test_depth_is_the_deepest_nesting():
    assert depth(json.dumps({"a": [[1], {"b": [2]}]}).encode()) == 4
    assert depth(b"") == 0
