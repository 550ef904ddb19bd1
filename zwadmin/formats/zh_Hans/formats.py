"""zh_Hans: the console's one date form and thousands separators (zwadmin.formats)."""

from zwadmin.formats.common import *  # noqa: F403
