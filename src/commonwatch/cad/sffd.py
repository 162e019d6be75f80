"""The San Francisco Fire Department "Fire Department Calls for Service" export (DataSF, public
domain): one row per unit response, grouped here by Call Number into calls.

Mapping to the five incident timestamps (see domain/intervals.py):

    received    Received DtTm  (the call reached the dispatch centre)
    answered    Entry DtTm     (the call was entered in CAD: an incident exists for dispatchers;
                                later than a ring-to-answer time, it includes call taking, so it
                                reads long against NFPA 1225's 10 s)
    dispatched  earliest Dispatch DtTm of the call's units
    en route    earliest Response DtTm
    on scene    earliest On Scene DtTm

Timestamps are local San Francisco wall-clock time ("12/31/2016 11:57:56 PM"); they are read
as America/Los_Angeles (an ambiguous hour at the autumn DST change takes its first occurrence)
and stored in UTC. Location is "(lat, lon)". The jurisdiction path is
<root>.battalion_<battalion>.station_<station area>, e.g. sf.battalion_b02.station_07.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from commonwatch.domain.model import ltree_label
from commonwatch.domain.units import CadFormat

FORMAT = "sffd"
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"
REQUIRED = (
    "Call Number",
    "Unit ID",
    "Call Type",
    "Received DtTm",
    "Entry DtTm",
    "Dispatch DtTm",
    "Response DtTm",
    "On Scene DtTm",
    "Available DtTm",
    "Battalion",
    "Station Area",
    "Unit Type",
    "Unit sequence in call dispatch",
    "Location",
)
_LOCATION = re.compile(r"^\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)$")


class CadError(ValueError):
    """A row or file that cannot be read; the message says where and why."""


@dataclass(frozen=True, slots=True)
class CadResponse:
    unit_id: str
    unit_type: str
    sequence: int | None
    dispatched_at: datetime | None
    en_route_at: datetime | None
    on_scene_at: datetime | None
    available_at: datetime | None


@dataclass(frozen=True, slots=True)
class CadCall:
    id: str
    format: str
    call_number: str
    call_type: str
    incident_type: str
    jpath: str
    lat: float | None
    lon: float | None
    received_at: datetime
    answered_at: datetime | None
    responses: tuple[CadResponse, ...]

    @property
    def dispatched_at(self) -> datetime | None:
        return _first(r.dispatched_at for r in self.responses)

    @property
    def en_route_at(self) -> datetime | None:
        return _first(r.en_route_at for r in self.responses)

    @property
    def on_scene_at(self) -> datetime | None:
        return _first(r.on_scene_at for r in self.responses)


def _first(values: Iterable[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def check_header(fields: Iterable[str] | None) -> None:
    missing = [name for name in REQUIRED if name not in set(fields or ())]
    if missing:
        raise CadError(f"not an SFFD calls export: missing columns {', '.join(missing)}")


def parse_time(raw: str, zone: ZoneInfo) -> datetime | None:
    text = raw.strip()
    if not text:
        return None
    try:
        local = datetime.strptime(text, TIME_FORMAT)
    except ValueError as exc:
        raise CadError(f"unreadable time {text!r}, expected e.g. 12/31/2016 11:57:56 PM") from exc
    return local.replace(tzinfo=zone).astimezone(UTC)


def parse_location(raw: str) -> tuple[float, float] | None:
    match = _LOCATION.match(raw.strip())
    return (float(match[1]), float(match[2])) if match else None


def jpath_of(root: str, battalion: str, station_area: str) -> str:
    return ".".join(
        [
            ltree_label(root),
            f"battalion_{ltree_label(battalion or 'unknown')}",
            f"station_{ltree_label(station_area or 'unknown')}",
        ]
    )


def _int(raw: str) -> int | None:
    return int(raw) if raw.strip().isdigit() else None


def response_of(row: dict[str, str], zone: ZoneInfo) -> CadResponse:
    return CadResponse(
        unit_id=row["Unit ID"].strip(),
        unit_type=row["Unit Type"].strip(),
        sequence=_int(row["Unit sequence in call dispatch"]),
        dispatched_at=parse_time(row["Dispatch DtTm"], zone),
        en_route_at=parse_time(row["Response DtTm"], zone),
        on_scene_at=parse_time(row["On Scene DtTm"], zone),
        available_at=parse_time(row["Available DtTm"], zone),
    )


def call_of(rows: list[dict[str, str]], fmt: CadFormat, zone: ZoneInfo) -> CadCall:
    first = rows[0]
    received = [t for t in (parse_time(r["Received DtTm"], zone) for r in rows) if t]
    if not received:
        raise CadError(f"call {first['Call Number']} has no Received DtTm")
    location = parse_location(first["Location"])
    number = first["Call Number"].strip()
    responses = {r.unit_id: r for r in (response_of(row, zone) for row in rows)}
    return CadCall(
        id=f"{FORMAT}:{number}",
        format=FORMAT,
        call_number=number,
        call_type=first["Call Type"].strip(),
        incident_type=fmt.incident_type_of(first["Call Type"].strip()),
        jpath=jpath_of(fmt.root, first["Battalion"].strip(), first["Station Area"].strip()),
        lat=location[0] if location else None,
        lon=location[1] if location else None,
        received_at=min(received),
        answered_at=_first(parse_time(r["Entry DtTm"], zone) for r in rows),
        responses=tuple(sorted(responses.values(), key=lambda r: r.unit_id)),
    )


@dataclass
class Skipped:
    """How many calls could not be read, with the first few reasons."""

    count: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, reason: str) -> None:
        self.count += 1
        if len(self.reasons) < 10:
            self.reasons.append(reason)


def group_calls(rows: Iterable[dict[str, str]]) -> Iterator[list[dict[str, str]]]:
    """Rows of one call together, in the order calls first appear."""
    calls: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        calls.setdefault(row["Call Number"].strip(), []).append(row)
    yield from calls.values()


def parse_calls(
    rows: Iterable[dict[str, str]], fmt: CadFormat, skipped: Skipped
) -> Iterator[CadCall]:
    zone = ZoneInfo(fmt.timezone)
    for group in group_calls(rows):
        try:
            yield call_of(group, fmt, zone)
        except CadError as exc:
            skipped.add(f"call {group[0]['Call Number']}: {exc}")
