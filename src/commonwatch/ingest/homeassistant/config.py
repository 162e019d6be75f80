"""Which state topic is which alarm panel, and where it is.

```toml
[homeassistant]
community = "c-riverside"

[homeassistant.panels."home/alarm/block_a/state"]
device = "panel-block-a"

# mqtt_statestream topics need no entry: homeassistant/alarm_control_panel/<object_id>/state
# is panel ha:<object_id> in the default community.
```
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from commonwatch.ingest.bridge.decoding import device_id

Ident = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")]


class PanelConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    device: Ident | None = None
    community: Ident | None = None


class HomeAssistantConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # mqtt_statestream's base topic (and the discovery prefix): the default state topics.
    prefix: str = "homeassistant"
    community: Ident | None = None
    panels: dict[str, PanelConfig] = msgspec.field(default_factory=dict)

    def panel_device(self, topic: str, object_id: str | None) -> str:
        found = self.panels.get(topic)
        if found and found.device:
            return found.device
        return device_id("ha", object_id or topic)

    def community_of(self, topic: str, fallback: str | None) -> str | None:
        found = self.panels.get(topic)
        return (found.community if found else None) or self.community or fallback
