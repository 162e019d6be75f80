"""OwnTracks: positions of on-duty units, only the allowlisted fields, nothing of residents."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commonwatch.ingest.bridge.config import parse_config
from commonwatch.ingest.bridge.outputs import Context, Position, UnitGone, no_state
from commonwatch.ingest.owntracks.parse import ParseError
from commonwatch.ingest.owntracks.translate import OwnTracksTranslator

FIXTURES = Path(__file__).parents[1] / "fixtures" / "owntracks"
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
CONFIG = parse_config(
    '[owntracks.units."patrol/phone7"]\nunit = "patrol-7"\ncommunity = "c-riverside"\n'
).owntracks
LISTED_ONLY = parse_config(
    '[owntracks]\naccept_unlisted = false\n[owntracks.units."patrol/phone7"]\nunit = "patrol-7"\n'
).owntracks


def send(topic: str, name: str, config: object = CONFIG) -> list[object]:
    translator = OwnTracksTranslator(config)  # type: ignore[arg-type]
    payload = (FIXTURES / name).read_bytes()
    return list(translator.translate(topic, payload, Context(NOW), no_state))


def test_it_keeps_a_location_as_the_units_position() -> None:
    (pos,) = send("owntracks/patrol/phone7", "location.json")
    assert pos == Position(
        unit_id="patrol-7", community="c-riverside", lat=48.856826, lon=2.292713,
        at=datetime.fromtimestamp(1706856298, UTC), accuracy_m=None, speed_kmh=0.0, battery=53.0,
    )  # fmt: skip


def test_it_keeps_nothing_but_position_accuracy_speed_and_battery() -> None:
    (pos,) = send("owntracks/patrol/phone7", "location_full.json")
    text = repr(pos)
    for dropped in ("Home Network", "b0:f2", "Depot", "p7", "a1b2c3"):
        assert dropped not in text


def test_it_names_unlisted_apps_by_user_and_device_unless_told_to_accept_only_listed_units() -> (
    None
):
    (pos,) = send("owntracks/guard/tablet", "location.json")
    assert isinstance(pos, Position)
    assert pos.unit_id == "owntracks:guard:tablet"
    assert send("owntracks/guard/tablet", "location.json", LISTED_ONLY) == []


def test_it_moves_the_unit_on_a_transition_and_marks_it_gone_on_its_last_will() -> None:
    (moved,) = send("owntracks/patrol/phone7/event", "transition.json")
    (gone,) = send("owntracks/patrol/phone7", "lwt.json")
    assert isinstance(moved, Position)
    assert (moved.lat, moved.lon) == (48.8575, 2.2945)
    assert gone == UnitGone("patrol-7", datetime.fromtimestamp(1706856500, UTC))


def test_it_declines_encrypted_payloads_with_a_clear_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        assert send("owntracks/patrol/phone7", "encrypted.json") == []
    assert "encrypted" in caplog.text
    assert "patrol-7" in caplog.text


def test_it_does_not_read_cards_waypoints_or_commands() -> None:
    assert send("owntracks/patrol/phone7/info", "card.json") == []
    assert send("owntracks/patrol/phone7", "card.json") == []


def test_it_tolerates_an_empty_http_body() -> None:
    translator = OwnTracksTranslator(CONFIG)
    assert translator.translate_for("patrol", "phone7", b"", Context(NOW)) == []


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"_type":"location","lat":95,"lon":2,"tst":1706856298}', "$.lat"),
        (b'{"_type":"location","lat":48,"lon":2}', "`tst`"),
        (b'{"lat":48,"lon":2,"tst":1706856298}', "`_type`"),
        (
            b'{"_type":"transition","event":"Alice Example","lat":1,"lon":1,"tst":1706856298}',
            "$.event",
        ),
    ],
)
def test_it_refuses_malformed_locations_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        OwnTracksTranslator(CONFIG).translate_for("patrol", "phone7", payload, Context(NOW))
    assert reason in caught.value.reason
    assert "Alice" not in caught.value.reason
