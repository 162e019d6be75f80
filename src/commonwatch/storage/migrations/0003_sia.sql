-- SIA DC-09 alarm receiver: monitored accounts, link supervision, and the raw-code log.

-- One row per alarm panel account (3-16 hex digits). The AES key is stored as given, not hashed:
-- the receiver needs it to decrypt requests and encrypt its ACKs. Guard backups accordingly;
-- the API never returns it.
CREATE TABLE sia_accounts (
    number           text PRIMARY KEY CHECK (number ~ '^[0-9A-F]{3,16}$'),
    aes_key          text,
    supervision_s    double precision NOT NULL DEFAULT 180 CHECK (supervision_s >= 0),
    window_before_s  double precision NOT NULL DEFAULT 40 CHECK (window_before_s >= 0),
    window_after_s   double precision NOT NULL DEFAULT 20 CHECK (window_after_s >= 0),
    community_id     text REFERENCES communities (id),
    building_id      text REFERENCES buildings (id),
    device_id        text,
    jpath            ltree NOT NULL DEFAULT 'unassigned',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sia_accounts_jpath_gist ON sia_accounts USING gist (jpath);

-- When each supervised account was last heard from, so that supervision survives a restart
-- (EN 50136-1 reporting time). failed_since is set while a communication failure is raised.
-- No foreign key: accounts may also come from the environment or a config file.
CREATE TABLE sia_supervision (
    account       text PRIMARY KEY,
    last_seen     timestamptz NOT NULL,
    failed_since  timestamptz,
    jpath         ltree NOT NULL DEFAULT 'unassigned',
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sia_supervision_jpath_gist ON sia_supervision USING gist (jpath);

-- The raw SIA / Contact ID code behind each event, written after the ACK (best effort: the
-- alarm itself is already durable in JetStream). User numbers of openings/closings are never
-- written; zone is the panel's zone. Link tests (NULL) are not logged.
CREATE TABLE sia_messages (
    account      text NOT NULL,
    seq          text NOT NULL,
    message_id   text NOT NULL,
    code         text NOT NULL,
    zone         text,
    area         text,
    event_type   text NOT NULL,
    state        text NOT NULL,
    encrypted    boolean NOT NULL,
    event_id     text NOT NULL,
    device_ts    timestamptz,
    received_at  timestamptz NOT NULL,
    lon          double precision,
    lat          double precision,
    jpath        ltree NOT NULL
);
CREATE INDEX sia_messages_received_brin ON sia_messages USING brin (received_at);
CREATE INDEX sia_messages_account ON sia_messages (account, received_at);

INSERT INTO retention_policies (data_class, days) VALUES ('sia_messages', 90)
    ON CONFLICT (data_class) DO NOTHING;
