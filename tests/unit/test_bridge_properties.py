"""Properties: no message a device ecosystem can send crashes its parser. Bad input is a
ParseError whose reason names no value; good input yields only well-formed, allowlisted output."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonwatch.ingest.bridge.config import parse_config
from commonwatch.ingest.bridge.outputs import Context, Native, Output, StateSnapshot
from commonwatch.ingest.bridge.router import Inbound, Router
from commonwatch.ingest.native.parse import ParseError

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIXTURES = Path(__file__).parents[1] / "fixtures"
MARKER = "Alice Example"
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
ROUTER = Router.from_config(
    parse_config(
        '[frigate]\nbase_url = "http://nvr"\n[frigate.cameras.gate_cam.zones.bike_store]\n'
        'restricted = true\n[homeassistant.panels."home/alarm/state"]\ndevice = "panel-1"\n'
    )
)
IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")
TYPE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
EVENT_ID = re.compile(r"^[\x21-\x7e]{1,128}$")

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64)
    | st.floats()
    | st.text(max_size=12)
    | st.just(MARKER)
    | st.sampled_from(["online", "offline", "triggered", "new", "end", "location", "person"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=12,
)


def fixtures(folder: str) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted((FIXTURES / folder).glob("*.json"))
            if p.read_text().lstrip().startswith("{")]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, folder: str) -> bytes:
    """A real payload with some values replaced, removed or nested deeper."""
    body: dict[str, object] = dict(draw(st.sampled_from(fixtures(folder))))
    for key in draw(st.lists(st.sampled_from(sorted(body) or ["x"]), max_size=3)):
        if draw(st.booleans()):
            body[key] = draw(json_values)
        else:
            body.pop(key, None)
    for key in ("after", "before"):
        inner = body.get(key)
        if isinstance(inner, dict) and inner and draw(st.booleans()):
            body[key] = {**inner, draw(st.sampled_from(sorted(inner))): draw(json_values)}
    return json.dumps(body, allow_nan=True).encode()


# Edge cases by name, so that a failure report stays readable.
SPECIAL = {
    "empty": b"",
    "deep-arrays": b"[" * 5000,
    "deep-objects": b'{"a":' * 3000,
    "marker": MARKER.encode(),
    "binary": b"\x00\xff",
}


def payloads(folder: str) -> st.SearchStrategy[bytes]:
    return (
        mutated(folder)
        | json_values.map(lambda v: json.dumps(v).encode())
        | st.binary(max_size=64)
        | st.sampled_from(sorted(SPECIAL)).map(SPECIAL.__getitem__)
    )


def check(topic: str, payload: bytes) -> None:
    translator = ROUTER.pick(Inbound(topic, payload, NOW))
    assert translator is not None
    states: dict[str, StateSnapshot] = {}
    reason: str | None = None
    out: list[Output] = []
    try:
        out = translator.translate(topic, payload, Context(NOW, "c-1"), states.get)
    except ParseError as exc:
        reason = exc.reason
    if reason is not None:
        assert reason
        assert MARKER not in reason
    assert MARKER not in repr(out)
    for o in out:
        well_formed(o)


def well_formed(o: Output) -> None:
    if isinstance(o, Native):
        assert EVENT_ID.match(o.id), o.id
        assert IDENT.match(o.device), o.device
        assert TYPE.match(o.type), o.type
        assert o.ts.tzinfo is not None


def property_of(topics: list[str], folder: str) -> Callable[[], None]:
    @PROPERTY
    @given(topic=st.sampled_from(topics), payload=payloads(folder))
    def run(topic: str, payload: bytes) -> None:
        check(topic, payload)

    return run


test_it_never_crashes_on_any_frigate_message = property_of(
    ["frigate/events", "frigate/reviews", "frigate/available", "frigate/gate_cam/status/detect",
     "frigate/tracked_object_update", "frigate/gate_cam/motion"],
    "frigate",
)  # fmt: skip

test_it_never_crashes_on_any_zigbee2mqtt_message = property_of(
    ["zigbee2mqtt/hall/smoke", "zigbee2mqtt/hall/smoke/availability", "zigbee2mqtt/bridge/state",
     "zigbee2mqtt/" + "x/" * 70 + "y"],
    "zigbee2mqtt",
)  # fmt: skip

test_it_never_crashes_on_any_home_assistant_message = property_of(
    ["homeassistant/alarm_control_panel/block_a/state", "home/alarm/state",
     "homeassistant/alarm_control_panel/x/config"],
    "homeassistant",
)  # fmt: skip

test_it_never_crashes_on_any_owntracks_message = property_of(
    ["owntracks/patrol/phone7", "owntracks/patrol/phone7/event", "owntracks/u/d/info"],
    "owntracks",
)  # fmt: skip
