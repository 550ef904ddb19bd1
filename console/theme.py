"""A fix to the theme (django-unfold) that the console's lists need at fleet scale, applied when the console loads.

The theme's ``items_for_result`` builds every column header of the list again for each row it renders
(``list(result_headers(cl))`` per row): a page of 100 rows and 12 columns builds 1,200 headers, each with its
sort links, which made the rendering, not the database, most of a list page's time (docs/performance.md,
"Console lists"). The headers depend on the list only, never on the row, and are only read: they are built
once per list and reused for its rows. Checked against the theme's version pinned in requirements.txt
(``console/tests/test_lists.py`` fails if the theme stops asking ``result_headers`` this way).
"""

from unfold.templatetags import unfold_list

_CACHED = "_zwadmin_result_headers"


def _original(cl):  # replaced by the theme's own when patched
    raise NotImplementedError


def cached_result_headers(cl):
    headers = getattr(cl, _CACHED, None)
    if headers is None:
        headers = list(_original(cl))
        setattr(cl, _CACHED, headers)
    return iter(headers)


def cache_result_headers() -> None:
    """Make the theme build a list's column headers once per list, not once per row (idempotent)."""
    global _original  # noqa: PLW0603
    if unfold_list.result_headers is not cached_result_headers:
        _original = unfold_list.result_headers
        unfold_list.result_headers = cached_result_headers
