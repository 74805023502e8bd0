"""Opening hours of the contact centre: when a new ticket waits in the queue and when it
is an after-hours ticket (someone calls back)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class OpeningHoursError(ValueError):
    pass


@dataclass(frozen=True)
class OpeningHours:
    """Weekly opening hours such as ``mon-fri 08:00-17:00``."""

    days: frozenset[int]
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, timezone: str = "Europe/Stockholm") -> OpeningHours:
        match = re.fullmatch(
            r"\s*(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?\s+"
            r"(\d\d):(\d\d)-(\d\d):(\d\d)\s*",
            spec.lower(),
        )
        if not match:
            raise OpeningHoursError(
                f"Opening hours '{spec}' are not understood. Use e.g. 'mon-fri 08:00-17:00'."
            )
        first = DAYS.index(match.group(1))
        last = DAYS.index(match.group(2) or match.group(1))
        days = frozenset(range(first, last + 1))
        start = time(int(match.group(3)), int(match.group(4)))
        end = time(int(match.group(5)), int(match.group(6)))
        return cls(days, start, end, ZoneInfo(timezone))

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return local.weekday() in self.days and self.start <= local.time() < self.end
