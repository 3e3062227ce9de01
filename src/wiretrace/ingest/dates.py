"""Publication times from the strings news files and pages carry.

:func:`parse_date` accepts ISO 8601 ("2019-03-24T20:22:00Z"), RFC 2822 ("Sun, 24 Mar 2019
20:22:00 +0000") and the free forms of page headers ("Sunday, Mar 24 2019, 8:22pm",
"24 March 2019", "March 24, 2019 at 8:22 PM EDT"), through python-dateutil. A string
must name a year, a month and a day: "March 23" or "2019" alone is not a publication
time (such partial dates are resolved later against a story's dates, not here).

The result is timezone-aware when the string says the zone (an offset, "Z", "UTC",
"GMT" or a common abbreviation such as "EST" or "CET"); otherwise it is naive, unless
``default_tz`` (an IANA name such as "Europe/London") is given, which is then attached.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as du_parser

from wiretrace.errors import ConfigError

__all__ = ["parse_date"]

# Unambiguous-enough abbreviations seen in English-language news pages. Ambiguous ones
# (IST, CST in China) are left out: an unknown zone keeps the time naive.
_ABBREVIATIONS: dict[str, int] = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "BST": 3600,
    "WET": 0,
    "WEST": 3600,
    "CET": 3600,
    "CEST": 7200,
    "EET": 7200,
    "EEST": 10800,
    "MSK": 10800,
    "EST": -5 * 3600,
    "EDT": -4 * 3600,
    "CDT": -5 * 3600,
    "MST": -7 * 3600,
    "MDT": -6 * 3600,
    "PST": -8 * 3600,
    "PDT": -7 * 3600,
    "JST": 9 * 3600,
    "KST": 9 * 3600,
    "HKT": 8 * 3600,
    "SGT": 8 * 3600,
    "AEST": 10 * 3600,
    "AEDT": 11 * 3600,
}
_TZINFOS = {name: timezone(timedelta(seconds=s), name) for name, s in _ABBREVIATIONS.items()}
_TZINFOS["UTC"] = UTC
_TZINFOS["Z"] = UTC

# Words around a date in headers that dateutil would otherwise trip over.
_NOISE = re.compile(
    r"\b(?:published|posted|updated|last\s+updated|first\s+published|on|at|date|time)\b\s*:?"
    r"|[|*_]",
    re.IGNORECASE,
)
_TWO_DEFAULTS = (datetime(2001, 2, 3), datetime(2002, 4, 5))
_MIN_YEAR, _MAX_YEAR = 1800, 2200


def parse_date(value: str, default_tz: str = "") -> datetime | None:
    """The time ``value`` names, or None if it names no full date.

    Aware when ``value`` gives a zone; else naive, or in ``default_tz`` when that is an
    IANA zone name. Raises :class:`ConfigError` for an unknown ``default_tz``.
    """
    default_zone = _zone(default_tz) if default_tz else None
    text = value.strip()
    if not text or len(text) > 200:
        return None
    parsed = _parse_iso(text)
    if parsed is None:
        parsed = _parse_free(text)
    if parsed is None or not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        return None
    if parsed.tzinfo is None and default_zone is not None:
        parsed = parsed.replace(tzinfo=default_zone)
    return parsed


def _parse_iso(text: str) -> datetime | None:
    if not re.match(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None


def _parse_free(text: str) -> datetime | None:
    cleaned = " ".join(_NOISE.sub(" ", text).split()).strip(" ,-")
    if not cleaned or not re.search(r"\d", cleaned):
        return None
    results: list[datetime] = []
    for default in _TWO_DEFAULTS:
        try:
            with warnings.catch_warnings():
                # An unknown zone name: keep the time naive rather than fail.
                warnings.simplefilter("ignore", du_parser.UnknownTimezoneWarning)
                results.append(du_parser.parse(cleaned, default=default, tzinfos=_TZINFOS))
        except (du_parser.ParserError, ValueError, OverflowError):
            return None
    first, second = results
    # A component that follows the default is missing from the string.
    if first.year != second.year or first.month != second.month or first.day != second.day:
        return None
    return first


@cache
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"ingest.default_timezone must be an IANA zone name such as 'Europe/London', "
            f"not {name!r}"
        ) from None
