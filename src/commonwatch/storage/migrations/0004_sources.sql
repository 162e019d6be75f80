-- Device ecosystems over MQTT (Frigate, Zigbee2MQTT, Home Assistant, OwnTracks): evidence links,
-- the last known state per source device, unit positions, device health and the bridge's
-- connections. Nothing here holds a raw payload: every column is an allowlisted value.

-- Links to camera evidence kept by the NVR itself: the URL only, never an image.
-- Joined to incidents through events.incident_id; incident_id is copied here once the worker has
-- linked the event, so that the link outlives the event's own retention.
CREATE TABLE evidence (
    id           bigserial PRIMARY KEY,
    event_id     text NOT NULL,
    incident_id  text,
    kind         text NOT NULL CHECK (kind IN ('snapshot', 'clip')),
    url          text NOT NULL,
    jpath        ltree NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, kind)
);
CREATE INDEX evidence_incident ON evidence (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX evidence_unlinked ON evidence (event_id) WHERE incident_id IS NULL;

-- Sources that repeat their whole state in every message (Zigbee2MQTT, alarm panels,
-- availability) fire an event only on a change: the last state survives restarts here.
CREATE TABLE source_states (
    source      text NOT NULL,
    device_key  text NOT NULL,
    seq         bigint NOT NULL,
    state       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, device_key)
);

-- Latest position of each on-duty unit (patrols, responders); never residents.
CREATE TABLE unit_positions (
    unit_id      text PRIMARY KEY,
    lat          double precision NOT NULL,
    lon          double precision NOT NULL,
    accuracy_m   real,
    speed_kmh    real,
    battery      real,
    at           timestamptz NOT NULL,
    connected    boolean NOT NULL DEFAULT true,
    jpath        ltree NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE unit_tracks (
    unit_id  text NOT NULL,
    at       timestamptz NOT NULL,
    lat      double precision NOT NULL,
    lon      double precision NOT NULL,
    PRIMARY KEY (unit_id, at)
);
CREATE INDEX unit_tracks_at ON unit_tracks USING brin (at);

-- Device health is maintenance, not emergency: offline, low battery, tamper, supervision loss,
-- silence. A device with no row has never had an issue.
CREATE TABLE device_health (
    device_id     text PRIMARY KEY,
    community_id  text NOT NULL DEFAULT '',
    state         text NOT NULL CHECK (state IN ('ok', 'degraded', 'offline')),
    issues        text[] NOT NULL DEFAULT '{}',
    since         timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    jpath         ltree NOT NULL DEFAULT ''
);
CREATE INDEX device_health_unhealthy ON device_health (community_id) WHERE state <> 'ok';

CREATE TABLE maintenance_tickets (
    id          bigserial PRIMARY KEY,
    device_id   text NOT NULL,
    issue       text NOT NULL,
    opened_at   timestamptz NOT NULL,
    closed_at   timestamptz,
    jpath       ltree NOT NULL DEFAULT ''
);
-- At most one open ticket per device and issue: a flapping device reuses it.
CREATE UNIQUE INDEX maintenance_tickets_open ON maintenance_tickets (device_id, issue)
    WHERE closed_at IS NULL;

-- What the bridge process reports about each MQTT connection (the API shows it).
CREATE TABLE source_connections (
    name             text PRIMARY KEY,
    url              text NOT NULL,
    source           text NOT NULL,
    state            text NOT NULL,
    since            timestamptz NOT NULL,
    last_error       text,
    messages         bigint NOT NULL DEFAULT 0,
    last_message_at  timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Purged by handlers/retention.py: tracks after 30 days; evidence links whose incident is gone
-- (or that never joined one); closed maintenance tickets after a year.
INSERT INTO retention_policies (data_class, days) VALUES
    ('unit_tracks', 30), ('evidence', 90), ('maintenance_tickets', 365)
    ON CONFLICT (data_class) DO NOTHING;
