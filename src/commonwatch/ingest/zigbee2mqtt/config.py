"""Which community and device id each Zigbee2MQTT device (by friendly name) is.

```toml
[zigbee2mqtt]
base_topic = "zigbee2mqtt"
community = "c-riverside"

[zigbee2mqtt.devices."block-a/kitchen smoke"]
device = "smoke-a-kitchen"          # registered in its building; default z2m:<friendly name>
```
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from commonwatch.ingest.bridge.decoding import device_id

Ident = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]


class DeviceConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    device: Ident | None = None
    community: Ident | None = None


class Zigbee2MqttConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    base_topic: str = "zigbee2mqtt"
    community: Ident | None = None
    # The coordinator bridge itself, as a device: its state is device health.
    bridge_device: Ident = "zigbee2mqtt"
    # `battery` (%) below this is battery_low when the device has no battery_low flag.
    battery_low_percent: Percent = 15.0
    # `temperature` at or above this is a heat alarm: 57 °C is the usual fixed-heat rating.
    heat_alarm_c: float = 57.0
    devices: dict[str, DeviceConfig] = msgspec.field(default_factory=dict)

    def device_of(self, name: str) -> str:
        found = self.devices.get(name)
        return (found.device if found else None) or device_id("z2m", name)

    def community_of(self, name: str, fallback: str | None) -> str | None:
        found = self.devices.get(name)
        return (found.community if found else None) or self.community or fallback
