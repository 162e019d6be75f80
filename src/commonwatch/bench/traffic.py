"""The bench's district and its traffic: which devices exist, and what they send.

About 98 % of events are observations (heartbeat, motion, door) and 2 % are alarms or restores,
spread over all devices, so that correlation runs and incidents are opened, joined and resolved
the way they are in a real district.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

from commonwatch.bus.subjects import EVENTS_PREFIX, MQTT_EVENTS_TOPIC
from commonwatch.domain.places import Building, Community, Device, child_path

CITY = "bench"
COMMUNITIES = 50
BUILDINGS_PER_COMMUNITY = 5
DEVICES_PER_BUILDING = 8  # 40 devices per community, 2,000 in all

INFO_TYPES = ("heartbeat", "heartbeat", "motion", "door")
ALARM_TYPES = ("smoke", "heat", "water_leak", "intrusion", "tamper", "panic")
RESTORE_TYPES = ("tamper", "water_leak", "intrusion")
# "commonwatch/events": the platform's MQTT topic without its <community>/<device> levels.
EVENTS_TOPIC_ROOT = MQTT_EVENTS_TOPIC.split("/{", 1)[0]

ALARM_SHARE = 0.016
RESTORE_SHARE = 0.004  # alarms + restores: 2 % of all events


@dataclass(frozen=True, slots=True)
class District:
    communities: list[Community]
    buildings: list[Building]
    devices: list[Device]


def community_id(n: int) -> str:
    return f"c{n:02d}"


def build_district() -> District:
    communities: list[Community] = []
    buildings: list[Building] = []
    devices: list[Device] = []
    for c in range(COMMUNITIES):
        cid = community_id(c)
        community = Community(cid, f"Community {c}", child_path(CITY, cid))
        communities.append(community)
        for b in range(BUILDINGS_PER_COMMUNITY):
            bid = f"{cid}-b{b}"
            building = Building(bid, cid, f"Block {b}", child_path(community.jpath, bid))
            buildings.append(building)
            devices.extend(
                Device(f"{bid}-d{d}", "sensor", cid, building.jpath, bid)
                for d in range(DEVICES_PER_BUILDING)
            )
    return District(communities, buildings, devices)


def device_places() -> list[tuple[str, str]]:
    """(community, device) of every device, in a fixed order."""
    return [(d.community_id, d.id) for d in build_district().devices]


def mqtt_topics(root: str) -> list[str]:
    return [f"{root}/{c}/{d}" for c, d in device_places()]


def event_subjects(prefix: str = EVENTS_PREFIX) -> list[str]:
    return [f"{prefix}.{c}.{d}" for c, d in device_places()]


class Mix:
    """Deterministic event kinds: the same seed gives the same sequence of (device, type, state)."""

    def __init__(self, seed: int, devices: int) -> None:
        self._rng = random.Random(seed)
        self._devices = devices

    def next(self) -> tuple[int, str, str]:
        rng = self._rng
        device = rng.randrange(self._devices)
        roll = rng.random()
        if roll < ALARM_SHARE:
            return device, rng.choice(ALARM_TYPES), "alarm"
        if roll < ALARM_SHARE + RESTORE_SHARE:
            return device, rng.choice(RESTORE_TYPES), "restore"
        return device, rng.choice(INFO_TYPES), "info"


def body(event_id: str, kind: str, state: str, ts: float) -> bytes:
    # Formatted by hand: this runs once per event in the load generators, next to paho.
    return f'{{"id":"{event_id}","type":"{kind}","state":"{state}","ts":{ts:.6f}}}'.encode()


def indexed_messages(
    prefix: str, count: int, *, seed: int, targets: int
) -> Iterator[tuple[int, bytes]]:
    """(device index, body) for `count` events with ids `<prefix><n>`, stamped when made."""
    mix = Mix(seed, targets)
    for n in range(count):
        device, kind, state = mix.next()
        yield device, body(f"{prefix}{n}", kind, state, time.time())


def messages(
    prefix: str, count: int, *, seed: int, targets: list[str]
) -> Iterator[tuple[str, bytes]]:
    """(subject or topic, body) for `count` events with ids `<prefix><n>`, stamped when made."""
    for device, data in indexed_messages(prefix, count, seed=seed, targets=len(targets)):
        yield targets[device], data
