"""Values as the console shows them: ``display_value`` (local time, localized, a dash for nothing) and
``relative_time``, relative times in one style: 刚刚, 5 分钟前, 2 小时前, 3 天前 (just now, 5 minutes ago …).

Django's ``naturaltime`` writes two units ("5 日，3 小时前") and its own Chinese ("2小时之前"); an operator reads one
unit, the largest, rounded down. The exact time belongs beside it (a ``title``), never instead of it.
"""

import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MINUTE, HOUR, DAY = 60, 3600, 86400


def display_value(value):
    """A value as the admin shows one: local time, localized (2025-12-31 14:05, 622,111), a dash for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return formats.localize(value)


def relative_time(moment: datetime.datetime | None, now: datetime.datetime | None = None) -> str:
    """``moment`` as the console says how long ago it was; a moment in the future (clock skew) is "just now"."""
    if moment is None:
        return "—"
    seconds = int(((now or timezone.now()) - moment).total_seconds())
    if seconds < MINUTE:
        return _("just now")
    if seconds < HOUR:
        count = seconds // MINUTE
        return ngettext("%(count)d minute ago", "%(count)d minutes ago", count) % {"count": count}
    if seconds < DAY:
        count = seconds // HOUR
        return ngettext("%(count)d hour ago", "%(count)d hours ago", count) % {"count": count}
    count = seconds // DAY
    return ngettext("%(count)d day ago", "%(count)d days ago", count) % {"count": count}


def ungrouped(contents: str) -> str:
    """A number that is a name, not a quantity (a port), as written: 10003, never 10,003 (the theme's
    ``readonly_preprocess_fields`` hook, on the value as the page would show it)."""
    return contents.replace(",", "")
