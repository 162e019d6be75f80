"""Which community, building (through the device) and area each Frigate camera and zone is.

```toml
[frigate]
base_url = "http://frigate.local:5000"   # evidence links; none are made without it
community = "c-riverside"

[frigate.cameras.gate_cam]
device = "cam-gate"                      # registered in the building it watches

[frigate.cameras.gate_cam.zones.bike_store]
device = "cam-gate-bikes"                # a zone may be a device of its own (another building)
restricted = true                        # a person here is an intrusion
```
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from commonwatch.ingest.bridge.decoding import device_id

Ident = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")]


class ZoneConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    device: Ident | None = None
    restricted: bool = False


class CameraConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    device: Ident | None = None
    community: Ident | None = None
    # The whole view is restricted (a plant room, a roof): any person is an intrusion.
    restricted: bool = False
    zones: dict[str, ZoneConfig] = msgspec.field(default_factory=dict)


class FrigateConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    topic_prefix: str = "frigate"
    base_url: str | None = None
    community: Ident | None = None
    # The Frigate server itself, as a device: its availability is device health.
    server_device: Ident = "frigate"
    # Frigate 0.14+ also groups detections into review items; alarms come from one of the two,
    # never both, or every alarm would be counted twice.
    alarms_from: Literal["events", "reviews"] = "events"
    cameras: dict[str, CameraConfig] = msgspec.field(default_factory=dict)

    def camera(self, name: str) -> CameraConfig:
        return self.cameras.get(name) or CameraConfig()

    def camera_device(self, name: str) -> str:
        return self.camera(name).device or device_id("frigate", name)

    def community_of(self, camera: str, fallback: str | None) -> str | None:
        return self.camera(camera).community or self.community or fallback

    def restricted(self, camera: str, zones: set[str]) -> list[str]:
        """The restricted zones among `zones` ('*' when the whole camera view is)."""
        cam = self.camera(camera)
        hits = sorted(z for z in zones if cam.zones.get(z, ZoneConfig()).restricted)
        return hits or (["*"] if cam.restricted else [])

    def zone_device(self, camera: str, zone: str) -> str:
        found = self.camera(camera).zones.get(zone)
        return (found.device if found else None) or self.camera_device(camera)

    def evidence_url(self, event_id: str, kind: str) -> str | None:
        if not self.base_url:
            return None
        ext = "snapshot.jpg" if kind == "snapshot" else "clip.mp4"
        return f"{self.base_url.rstrip('/')}/api/events/{event_id}/{ext}"
