-- Core schema: jurisdictions, places, devices, events, incidents, timers, outbox, accounts.
-- Every row that belongs somewhere carries its jurisdiction path (ltree) so that access can be
-- scoped by subtree: city.district.community.building.
CREATE EXTENSION IF NOT EXISTS ltree;

CREATE TABLE jurisdictions (
    path        ltree PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('city', 'district', 'community', 'building')),
    name        text NOT NULL,
    timezone    text NOT NULL DEFAULT 'UTC',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jurisdictions_path_gist ON jurisdictions USING gist (path);

CREATE TABLE communities (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    jpath       ltree NOT NULL,
    lat         double precision,
    lon         double precision,
    polygon     jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX communities_jpath_gist ON communities USING gist (jpath);

CREATE TABLE buildings (
    id            text PRIMARY KEY,
    community_id  text NOT NULL REFERENCES communities (id),
    name          text NOT NULL,
    jpath         ltree NOT NULL,
    lat           double precision,
    lon           double precision,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX buildings_community ON buildings (community_id);

CREATE TABLE devices (
    id            text PRIMARY KEY,
    kind          text NOT NULL,
    community_id  text NOT NULL REFERENCES communities (id),
    building_id   text REFERENCES buildings (id),
    name          text,
    lat           double precision,
    lon           double precision,
    jpath         ltree NOT NULL,
    last_seen_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_community ON devices (community_id);
CREATE INDEX devices_jpath_gist ON devices USING gist (jpath);

-- Devices currently in alarm, one row per (device, event type). A restore deletes the row.
CREATE TABLE device_alarms (
    device_id   text NOT NULL,
    event_type  text NOT NULL,
    event_id    text NOT NULL,
    since       timestamptz NOT NULL,
    jpath       ltree NOT NULL,
    PRIMARY KEY (device_id, event_type)
);

CREATE TABLE incidents (
    id                text PRIMARY KEY,
    type              text NOT NULL,
    priority          smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
    status            text NOT NULL,
    resolution        text,
    jpath             ltree NOT NULL,
    community_id      text NOT NULL,
    building_id       text,
    event_count       integer NOT NULL DEFAULT 1,
    confidence        real NOT NULL DEFAULT 0.5,
    escalation_level  smallint NOT NULL DEFAULT 0,
    correlation_keys  text[] NOT NULL DEFAULT '{}',
    device_ids        text[] NOT NULL DEFAULT '{}',
    event_types       text[] NOT NULL DEFAULT '{}',
    first_device_ts   timestamptz NOT NULL,
    received_at       timestamptz NOT NULL,
    opened_at         timestamptz NOT NULL,
    committed_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_event_at     timestamptz NOT NULL,
    acknowledged_at   timestamptz,
    dispatched_at     timestamptz,
    on_scene_at       timestamptz,
    resolved_at       timestamptz,
    closed_at         timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    version           integer NOT NULL DEFAULT 1
);
CREATE INDEX incidents_open_keys ON incidents USING gin (correlation_keys)
    WHERE status IN ('new', 'acknowledged', 'dispatched', 'on_scene');
CREATE INDEX incidents_queue ON incidents (opened_at DESC, id DESC);
CREATE INDEX incidents_status ON incidents (status, priority);
CREATE INDEX incidents_jpath_gist ON incidents USING gist (jpath);

CREATE TABLE events (
    id           text PRIMARY KEY,
    device_id    text NOT NULL,
    community_id text NOT NULL,
    type         text NOT NULL,
    state        text NOT NULL,
    value        double precision,
    source       text NOT NULL,
    device_ts    timestamptz NOT NULL,
    received_ts  timestamptz NOT NULL,
    jpath        ltree NOT NULL,
    stream_seq   bigint,
    incident_id  text,
    stored_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX events_received ON events (received_ts);
CREATE INDEX events_device ON events (device_id, received_ts DESC);
CREATE INDEX events_incident ON events (incident_id) WHERE incident_id IS NOT NULL;

CREATE TABLE incident_timeline (
    id           bigserial PRIMARY KEY,
    incident_id  text NOT NULL REFERENCES incidents (id),
    at           timestamptz NOT NULL,
    kind         text NOT NULL,
    actor        text,
    data         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, id);

CREATE TABLE timers (
    id            bigserial PRIMARY KEY,
    incident_id   text NOT NULL REFERENCES incidents (id),
    kind          text NOT NULL,
    level         integer NOT NULL DEFAULT 1,
    due_at        timestamptz NOT NULL,
    fired_at      timestamptz,
    cancelled_at  timestamptz
);
CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;

-- What others must hear, written in the same transaction as the change; a relay publishes it.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    subject       text NOT NULL,
    payload       bytea NOT NULL,
    jpath         ltree NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

CREATE TABLE accounts (
    id          text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('user', 'integration')),
    name        text NOT NULL,
    role        text NOT NULL,
    scope       ltree NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

-- Bearer tokens and device/integration API keys, stored only as SHA-256 hashes.
CREATE TABLE credentials (
    token_hash  bytea PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id),
    label       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Every read of personal data is written here (who, what, when).
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    account_id  text,
    action      text NOT NULL,
    target      text NOT NULL,
    jpath       ltree NOT NULL DEFAULT ''
);

-- Retention limits per data class, in days. The retention job deletes what is older.
CREATE TABLE retention_policies (
    data_class  text PRIMARY KEY,
    days        integer NOT NULL CHECK (days > 0)
);
INSERT INTO retention_policies (data_class, days) VALUES
    ('events', 90), ('incidents', 730), ('outbox', 7), ('audit_log', 365), ('dead_letters', 30);
