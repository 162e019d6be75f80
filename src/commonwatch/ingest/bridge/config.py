"""The bridge's TOML file: which brokers to read and how each source maps to places.

```toml
[bridge]
embedded = true                 # read the embedded MQTT listener (core NATS subjects)
community = "c-riverside"       # default community of the embedded listener
stale_after_h = 25              # no event for this long: the device is stale (health)

[[bridge.brokers]]
name = "estate-east"
host = "10.0.4.2"
port = 8883
source = "zigbee2mqtt"          # or auto: by topic prefix
topics = ["zigbee2mqtt/#"]
community = "c-east"
username = "commonwatch"
password_env = "EAST_MQTT_PASSWORD"
tls = { ca_certs = "/etc/commonwatch/east-ca.pem" }

[frigate]                       # see ingest/frigate/config.py, and the other sources' config.py
```
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from commonwatch.ingest.frigate.config import FrigateConfig
from commonwatch.ingest.homeassistant.config import HomeAssistantConfig
from commonwatch.ingest.owntracks.config import OwnTracksConfig
from commonwatch.ingest.zigbee2mqtt.config import Zigbee2MqttConfig
from commonwatch.runtime.config import default_data_dir

ENV_CONFIG = "COMMONWATCH_BRIDGE_CONFIG"
DEFAULT_NAME = "bridge.toml"

Ident = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")]
Name = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")]
SourceType = Literal["auto", "frigate", "zigbee2mqtt", "homeassistant", "owntracks"]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]


class TlsConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    ca_certs: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    # Only for a test broker with a self-signed certificate: no hostname check.
    insecure: bool = False


class BrokerConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Name
    host: str
    port: Port = 1883
    source: SourceType = "auto"
    topics: list[str] = msgspec.field(
        default_factory=lambda: ["frigate/#", "zigbee2mqtt/#", "homeassistant/#", "owntracks/#"]
    )
    community: Ident | None = None
    client_id: str | None = None
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    tls: TlsConfig | None = None
    keepalive_s: Annotated[int, msgspec.Meta(ge=5, le=3600)] = 30
    reconnect_min_s: Annotated[int, msgspec.Meta(ge=1)] = 1
    reconnect_max_s: Annotated[int, msgspec.Meta(ge=1)] = 60

    @property
    def url(self) -> str:
        """Where it is, without credentials (this is shown in the API)."""
        scheme = "mqtts" if self.tls else "mqtt"
        return f"{scheme}://{self.host}:{self.port}"

    def secret(self) -> str | None:
        if self.password_env:
            return os.environ.get(self.password_env)
        return self.password


class BridgeSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    embedded: bool = True
    community: Ident | None = None
    stale_after_h: Seconds = 25.0
    sweep_every_s: Seconds = 300.0
    status_every_s: Seconds = 2.0
    brokers: list[BrokerConfig] = msgspec.field(default_factory=list)


class BridgeFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    bridge: BridgeSection = msgspec.field(default_factory=BridgeSection)
    frigate: FrigateConfig = msgspec.field(default_factory=FrigateConfig)
    zigbee2mqtt: Zigbee2MqttConfig = msgspec.field(default_factory=Zigbee2MqttConfig)
    homeassistant: HomeAssistantConfig = msgspec.field(default_factory=HomeAssistantConfig)
    owntracks: OwnTracksConfig = msgspec.field(default_factory=OwnTracksConfig)


class ConfigError(ValueError):
    """A bridge file that cannot be used; the message names the problem."""


def parse_config(text: bytes | str) -> BridgeFile:
    try:
        found = msgspec.toml.decode(text, type=BridgeFile)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ConfigError(f"invalid bridge configuration: {exc}") from None
    names = [b.name for b in found.bridge.brokers]
    if len(set(names)) != len(names) or "embedded" in names:
        raise ConfigError("broker names must be unique and not 'embedded'")
    return found


def default_path(data_dir: Path | None = None) -> Path:
    env = os.environ.get(ENV_CONFIG)
    return Path(env) if env else (data_dir or default_data_dir()) / DEFAULT_NAME


def load_config(path: Path | None) -> BridgeFile:
    """The file at `path`; with no file there, the defaults (the embedded listener only)."""
    if path is None or not path.exists():
        return BridgeFile()
    return parse_config(path.read_bytes())
