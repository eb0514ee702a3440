"""The moment an interaction's `time` names, when it is written in one of the forms front ends send.

`time` is stored exactly as sent; where it reads as a date it is also stored as a timestamp, for
analytics. The forms (api.md, "Loose values front ends send"):
- an ISO 8601 string: `toISOString()`, `2021-03-01T17:03:11.123Z`, with or without an offset
  (without one it is taken as UTC), or a date alone;
- the same in double quotes: `JSON.stringify(new Date())` sent as the value;
- `new Date().toString()`: `Tue Dec 01 2026 23:32:29 GMT+0000 (Coordinated Universal Time)`;
- epoch milliseconds as text: `1606865549000`.
Anything else is still a valid `time`: its moment is unknown (None).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_DATE_STRING = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<month>[A-Z][a-z]{2}) (?P<day>[0-9]{2}) (?P<year>[0-9]{4}) "
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2}) GMT(?P<sign>[+-])(?P<oh>[0-9]{2})(?P<om>[0-9]{2})"
    r"(?: \([^()]*\))?")
_EPOCH_MS = re.compile(r"-?[0-9]{1,15}")  # within datetime's years 1..9999


def moment(time: str) -> datetime | None:
    """The UTC moment `time` names, or None when it is in none of the known forms."""
    text = time.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    try:
        if _EPOCH_MS.fullmatch(text):
            return EPOCH + timedelta(milliseconds=int(text))
        match = _DATE_STRING.fullmatch(text)
        if match:
            return _from_date_string(match)
        parsed = datetime.fromisoformat(text)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _from_date_string(match: re.Match[str]) -> datetime | None:
    month = _MONTHS.get(match["month"])
    if month is None:
        return None
    offset = timedelta(hours=int(match["oh"]), minutes=int(match["om"]))
    zone = timezone(offset if match["sign"] == "+" else -offset)
    local = datetime(int(match["year"]), month, int(match["day"]), int(match["hour"]), int(match["minute"]),
                     int(match["second"]), tzinfo=zone)
    return local.astimezone(UTC)
