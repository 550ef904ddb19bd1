"""The console's status colours: four tones, the same in the changelists, the dashboard and the charts.

A state (licence, reporting, a mismatch) names its tone; pages colour it through the ``zw-tone-<tone>``
CSS classes (``console/static/console/console.css``, the colours set by ``console/templates/admin/base.html``)
or ``Tone.colour``.
"""

from enum import StrEnum


class Tone(StrEnum):
    OK = "ok"
    WARNING = "warning"
    DANGER = "danger"
    NEUTRAL = "neutral"

    @property
    def colour(self) -> str:
        return COLOURS[self]


COLOURS = {Tone.OK: "#2e7d32", Tone.WARNING: "#ef6c00", Tone.DANGER: "#c62828", Tone.NEUTRAL: "#757575"}
