"""Typed quantities written in specs: never floats guessed from context.

``2%`` and ``10bps`` are fractions, ``5m``/``1h``/``1d`` durations, ``3 bars`` a bar count,
``"00:00 UTC"`` a time of day in a zone, ``"Mon-Fri 13:30-20:00 UTC"`` a trading window.
Each parser raises ``QuantityError`` with a message that shows the expected form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DUR_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
#: Zones accepted in times of day and windows (fixed offsets; no DST surprises in backtests).
ZONES = {"UTC": 0, "GMT": 0, "Z": 0}


class QuantityError(ValueError):
    """A quantity written in the wrong form; the message says the expected form.

    ``hint`` is the corrected text when it can be guessed ('3 days' -> '3d').
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


#: unit words people write -> the unit letters durations use
_UNIT_WORDS = {"ms": "ms", "msec": "ms", "millisecond": "ms", "milliseconds": "ms",
               "sec": "s", "secs": "s", "second": "s", "seconds": "s",
               "min": "m", "mins": "m", "minute": "m", "minutes": "m",
               "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
               "day": "d", "days": "d", "week": "w", "weeks": "w", "wk": "w"}


def _duration_hint(text: str) -> str | None:
    m = re.fullmatch(r"([0-9]+)\s*([A-Za-z]+)", text.strip())
    if m and m.group(2).lower() in _UNIT_WORDS:
        return f"write '{m.group(1)}{_UNIT_WORDS[m.group(2).lower()]}'"
    return "units are ms, s, m, h, d and w (e.g. '15m', '4h', '1d')"


@dataclass(frozen=True)
class Duration:
    seconds: float
    text: str

    def __str__(self) -> str:
        return self.text

    @property
    def nanos(self) -> int:
        return int(round(self.seconds * 1e9))


@dataclass(frozen=True)
class Bars:
    count: int

    def __str__(self) -> str:
        return f"{self.count} bars"


@dataclass(frozen=True)
class TimeOfDay:
    minutes: int  # minutes after midnight in the zone
    zone: str

    def __str__(self) -> str:
        return f"{self.minutes // 60:02d}:{self.minutes % 60:02d} {self.zone}"

    @property
    def utc_minutes(self) -> int:
        return (self.minutes - ZONES[self.zone] * 60) % 1440


@dataclass(frozen=True)
class DailyAt:
    """A cadence of once a day: the first bar that closes at or after this time."""

    time: TimeOfDay

    def __str__(self) -> str:
        return f"daily {self.time}"


@dataclass(frozen=True)
class Window:
    days: tuple[int, ...]  # 0 = Monday
    start: int  # minutes after midnight, inclusive
    end: int  # minutes after midnight, exclusive
    zone: str

    def __str__(self) -> str:
        d = self.days
        if list(d) == list(range(d[0], d[-1] + 1)) and len(d) > 1:
            days = f"{_DAYS[d[0]]}-{_DAYS[d[-1]]}"
        else:
            days = ",".join(_DAYS[i] for i in d)
        return (f"{days} {self.start // 60:02d}:{self.start % 60:02d}-"
                f"{self.end // 60:02d}:{self.end % 60:02d} {self.zone}")


def _num(text: str) -> float:
    return float(text)


def parse_pct(value: object) -> float:
    """``'2%'`` -> 0.02, ``'10bps'`` -> 0.001. Bare numbers are refused: the unit must be written."""
    if isinstance(value, bool):
        raise QuantityError(f"expected a percentage like '2%' or '10bps', got {value!r}")
    if isinstance(value, (int, float)):
        raise QuantityError(f"expected a percentage like '{value}%' or basis points like "
                            f"'{value}bps', got the bare number {value!r}",
                            f"write the unit: '{value}bps' or '{value}%'")
    text = str(value).strip()
    m = re.fullmatch(r"([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*(%|bps|bp)", text)
    if not m:
        m = re.fullmatch(r"([-+]?[0-9.]+)\s*(percent|pct|bp|basis points?)", text)
        raise QuantityError(f"expected a percentage like '2%' or basis points like '10bps', got {text!r}",
                            (f"write '{m.group(1)}%'" if m.group(2) in ("percent", "pct")
                             else f"write '{m.group(1)}bps'") if m else None)
    v = _num(m.group(1))
    return v / 100.0 if m.group(2) == "%" else v / 10000.0


def parse_duration(value: object) -> Duration:
    """``'5m'``, ``'1h'``, ``'1d'``, ``'30s'``, ``'1w'``."""
    text = str(value).strip()
    m = re.fullmatch(r"([0-9]+)\s*(ms|s|m|h|d|w)", text)
    if not m or isinstance(value, (int, float)):
        raise QuantityError(f"expected a duration like '5m', '1h' or '1d', got {value!r}",
                            _duration_hint(text) if not isinstance(value, (int, float))
                            else f"write the unit, e.g. '{value}d' or '{value}m'")
    n = int(m.group(1))
    if n <= 0:
        raise QuantityError(f"a duration must be positive, got {text!r}")
    return Duration(n * _DUR_UNITS[m.group(2)], f"{n}{m.group(2)}")


def parse_bars(value: object) -> Bars:
    text = str(value).strip()
    m = re.fullmatch(r"([0-9]+)\s*bars?", text)
    if not m or isinstance(value, (int, float)):
        raise QuantityError(f"expected a bar count like '3 bars', got {value!r}")
    return Bars(int(m.group(1)))


def parse_bars_or_duration(value: object) -> Bars | Duration:
    try:
        return parse_bars(value)
    except QuantityError:
        try:
            return parse_duration(value)
        except QuantityError:
            hint = _duration_hint(str(value))
            if isinstance(value, (int, float)):
                hint = f"write the unit: '{value} bars' or a duration like '{value}h'"
            elif hint and hint.startswith("write"):
                hint += f" (a duration), or '{re.sub(r'[^0-9]', '', str(value))} bars'"
            raise QuantityError(f"expected a bar count like '3 bars' or a duration like '4h', "
                                f"got {value!r}", hint) from None


def _hhmm(text: str) -> int:
    m = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})", text)
    if not m:
        raise QuantityError(f"expected a time like '13:30', got {text!r}")
    h, mi = int(m.group(1)), int(m.group(2))
    if h > 24 or mi > 59 or (h == 24 and mi):
        raise QuantityError(f"{text!r} is not a time of day")
    return h * 60 + mi


def _zone(text: str) -> str:
    if text not in ZONES:
        raise QuantityError(f"unknown time zone {text!r}; write one of: {', '.join(sorted(ZONES))}",
                            "times are in UTC (fixed offsets, no daylight saving); convert the time to UTC")
    return text


def parse_time_of_day(value: object) -> TimeOfDay:
    """``'00:00 UTC'``."""
    parts = str(value).split()
    if len(parts) != 2:
        raise QuantityError(f"expected a time and zone like '00:00 UTC', got {value!r}")
    return TimeOfDay(_hhmm(parts[0]), _zone(parts[1]))


def parse_cadence(value: object) -> "Duration | DailyAt":
    """``'5m'`` (every 5 minutes of bar closes) or ``'daily 15:55 UTC'`` / ``'daily at 15:55 UTC'``."""
    text = str(value).strip()
    if text.lower().startswith("daily"):
        rest = text[5:].strip()
        rest = rest[2:].strip() if rest.lower().startswith("at") else rest
        try:
            return DailyAt(parse_time_of_day(rest))
        except QuantityError as e:
            raise QuantityError(f"expected 'daily HH:MM UTC', got {value!r}: {e}", "e.g. cadence: daily 15:55 UTC") from None
    try:
        return parse_duration(value)
    except QuantityError as e:
        raise QuantityError(str(e), "a duration like '1h', or once a day: 'daily 15:55 UTC'") from None


def parse_window(value: object) -> Window:
    """``'Mon-Fri 13:30-20:00 UTC'`` or ``'Mon,Wed 09:00-17:00 UTC'``."""
    parts = str(value).split()
    if len(parts) != 3:
        raise QuantityError(f"expected a window like 'Mon-Fri 13:30-20:00 UTC', got {value!r}")
    days_text, hours, zone = parts
    days: list[int] = []
    for chunk in days_text.split(","):
        if "-" in chunk:
            a, b = chunk.split("-", 1)
            ia, ib = _day(a), _day(b)
            if ib < ia:
                raise QuantityError(f"day range {chunk!r} runs backwards", f"write '{b}-{a}'")
            days.extend(range(ia, ib + 1))
        else:
            days.append(_day(chunk))
    if "-" not in hours:
        raise QuantityError(f"expected hours like '13:30-20:00', got {hours!r}")
    s, e = hours.split("-", 1)
    start, end = _hhmm(s), _hhmm(e)
    if end <= start:
        raise QuantityError(f"window {hours!r} ends before it starts (windows do not cross midnight)",
                            f"write the earlier time first ('{e}-{s}'), or use two slots for a window "
                            "that crosses midnight")
    return Window(tuple(sorted(set(days))), start, end, _zone(zone))


def _day(text: str) -> int:
    if text not in _DAYS:
        from difflib import get_close_matches

        close = get_close_matches(text.capitalize(), _DAYS, n=1, cutoff=0.5)
        raise QuantityError(f"unknown day {text!r}; write one of {', '.join(_DAYS)}",
                            f"did you mean '{close[0]}'?" if close else None)
    return _DAYS.index(text)


def bars_per_year(tf: Duration) -> float:
    """Annualisation factor for a timeframe: 252 trading days for daily and longer bars,
    and round-the-clock 365-day years for intraday bars (crypto trades 24/7)."""
    if tf.seconds >= 86400:
        return 252.0 * 86400 / tf.seconds
    return 365.0 * 86400 / tf.seconds
