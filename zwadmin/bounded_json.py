"""JSON whose cost is known before it is parsed: its nesting depth and how many values it can hold.

A parser builds one Python object per JSON value, and the standard library's parser recurses once per level
of nesting: 30 MB of ``[0,0,…]`` is 15 million list slots, 30 MB of ``{},{},…`` ten million dicts (gigabytes),
and 100,000 ``[`` is a ``RecursionError``. So before a JSON text is parsed, :func:`check_shape` counts in C
(``bytes.count``, ``bytes.translate``) its commas, brackets and braces, and the depth its brackets reach, and
refuses a text over the caller's limits. The counts include the characters inside strings: an over-estimate
that costs no parse, and that real documents (a few commas or brackets in a name) never come near.

The depth is counted only once the number of brackets is known to be within the limit, so it is a pass over at
most ``2 × max_containers`` bytes; a text whose brackets do not even balance is not JSON and is refused at once.
"""

import itertools
from array import array

# Below the interpreter's recursion limit (1,000 frames, a Django request already uses about a hundred), so the
# standard library's parser never reaches a RecursionError; far beyond what any request of ours holds (3).
MAX_DEPTH = 500

_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in _BRACKETS)
# "[" and "{" become +1, "]" and "}" become -1 (as signed bytes), for the running sum that is the depth.
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


class JSONShapeError(ValueError):
    """The text is refused before parsing; ``too_large`` tells a count over its limit from a depth or a
    structure that is not JSON."""

    def __init__(self, message: str, *, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


def check_shape(text: bytes | str, *, max_values: int, max_containers: int, max_depth: int = MAX_DEPTH) -> None:
    """Refuse ``text`` (:class:`JSONShapeError`) if it may hold more than ``max_values`` values or
    ``max_containers`` arrays and objects, or nests deeper than ``max_depth``.

    Values are counted as commas + arrays and objects + 1, an upper bound of what a parser would build.
    """
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    containers = text.count(b"[") + text.count(b"{")
    closers = text.count(b"]") + text.count(b"}")
    if max(containers, closers) > max_containers:  # well-formed JSON has as many of each
        raise JSONShapeError(f"more than {max_containers} arrays and objects", too_large=True)
    if containers + text.count(b",") + 1 > max_values:
        raise JSONShapeError(f"more than {max_values} values", too_large=True)
    if depth(text) > max_depth:
        raise JSONShapeError(f"nested more than {max_depth} levels deep")


def depth(text: bytes) -> int:
    """The deepest nesting of ``text``'s brackets and braces (strings included)."""
    steps = array("b", text.translate(None, _NOT_BRACKETS).translate(_STEPS))
    return max(itertools.accumulate(steps), default=0)
