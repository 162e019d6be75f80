"""Which unit each OwnTracks (user, device) is. Positions are of on-duty UNITS only: point only
the apps of patrol and response units at Commonwatch, never residents' phones.

```toml
[owntracks]
accept_unlisted = false            # only the units below; default true: owntracks:<user>:<device>

[owntracks.units."patrol/phone7"]
unit = "patrol-7"
community = "c-riverside"          # optional: scopes who sees the unit
```
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from commonwatch.ingest.bridge.decoding import device_id

Ident = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")]


class UnitConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    unit: Ident
    community: Ident | None = None


class OwnTracksConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    topic_prefix: str = "owntracks"
    accept_unlisted: bool = True
    community: Ident | None = None
    units: dict[str, UnitConfig] = msgspec.field(default_factory=dict)

    def unit_of(self, user: str, device: str) -> str | None:
        """The unit id, or None when the app is not one of ours."""
        found = self.units.get(f"{user}/{device}")
        if found:
            return found.unit
        return device_id("owntracks", user, device) if self.accept_unlisted else None

    def community_of(self, user: str, device: str, fallback: str | None) -> str | None:
        found = self.units.get(f"{user}/{device}")
        return (found.community if found else None) or self.community or fallback
