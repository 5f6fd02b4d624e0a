-- Monitoring: environments and their probed endpoints (/health, /readiness), raw probe
-- results and one-minute rollups, alert rules and alerts, webhooks and their deliveries.

CREATE TABLE environments (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    base_url            TEXT NOT NULL,
    health_path         TEXT NOT NULL DEFAULT '/health',
    readiness_path      TEXT NOT NULL DEFAULT '/readiness',
    interval_seconds    INT NOT NULL DEFAULT 15 CHECK (interval_seconds BETWEEN 1 AND 3600),
    timeout_ms          INT NOT NULL DEFAULT 2000 CHECK (timeout_ms BETWEEN 50 AND 60000),
    expected_status     INT NOT NULL DEFAULT 200 CHECK (expected_status BETWEEN 100 AND 599),
    -- Optional assertions on the answer: a text the body contains, or a JSON value at a
    -- JSON pointer.
    body_contains       TEXT,
    json_pointer        TEXT,
    json_equals         JSONB,
    -- Request headers as [{"name","value","secret"}]; secret values never leave the server.
    headers             JSONB NOT NULL DEFAULT '[]',
    health_component    TEXT CHECK (health_component IN ('api', 'push', 'database', 'storage')),
    readiness_component TEXT CHECK (readiness_component IN ('api', 'push', 'database', 'storage')),
    enabled             BOOLEAN NOT NULL DEFAULT true,
    created_by          BIGINT REFERENCES users (id),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX environments_name_idx ON environments (lower(name));

-- The probe schedule: one row per environment and endpoint. A replica claims due rows
-- with FOR UPDATE SKIP LOCKED and moves `next_due` on in the same statement, so no two
-- replicas ever probe one endpoint in the same interval.
CREATE TABLE probe_endpoints (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id BIGINT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('health', 'readiness')),
    interval_ms    INT NOT NULL,
    next_due       TIMESTAMPTZ NOT NULL,
    enabled        BOOLEAN NOT NULL DEFAULT true,
    claimed_by     TEXT,
    -- The latest result, kept here so states need no scan of the raw results.
    last_checked_at      TIMESTAMPTZ,
    last_ok_at           TIMESTAMPTZ,
    last_status          INT,
    last_error           TEXT,
    consecutive_failures INT NOT NULL DEFAULT 0,
    -- "No successful probe for 10 min" counts from here at most: set when probing of this
    -- URL starts (created, switched on again, pointed elsewhere).
    watched_since  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (environment_id, kind)
);
CREATE INDEX probe_endpoints_due_idx ON probe_endpoints (next_due) WHERE enabled;

-- The evaluator's judgement, kept apart from the schedule so that judging never holds a
-- lock a replica claiming due probes would have to skip.
CREATE TABLE probe_states (
    endpoint_id        BIGINT PRIMARY KEY REFERENCES probe_endpoints (id) ON DELETE CASCADE,
    state              TEXT NOT NULL CHECK (state IN ('up', 'degraded', 'down', 'unknown')),
    state_since        TIMESTAMPTZ NOT NULL,
    -- The alert window as last summed up.
    window_total       INT NOT NULL,
    window_ok          INT NOT NULL,
    window_errors      INT NOT NULL,
    window_unavailable INT NOT NULL,
    p50_ms             INT,
    p95_ms             INT,
    p99_ms             INT
);

-- Raw results, kept PROBE_RAW_RETENTION_DAYS.
CREATE TABLE probe_results (
    endpoint_id  BIGINT NOT NULL REFERENCES probe_endpoints (id) ON DELETE CASCADE,
    scheduled_at TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    ok           BOOLEAN NOT NULL,
    status       INT,
    latency_ms   INT NOT NULL,
    error        TEXT,
    replica      TEXT NOT NULL
);
CREATE INDEX probe_results_endpoint_idx ON probe_results (endpoint_id, started_at);
CREATE INDEX probe_results_started_idx ON probe_results (started_at);

-- One-minute rollups, kept PROBE_ROLLUP_RETENTION_DAYS.
CREATE TABLE probe_rollups (
    endpoint_id BIGINT NOT NULL REFERENCES probe_endpoints (id) ON DELETE CASCADE,
    minute      TIMESTAMPTZ NOT NULL,
    total       INT NOT NULL,
    ok          INT NOT NULL,
    server_errors INT NOT NULL,
    unavailable INT NOT NULL,
    p50_ms      INT,
    p95_ms      INT,
    p99_ms      INT,
    PRIMARY KEY (endpoint_id, minute)
);

-- Alert thresholds and monitoring switches: one row.
CREATE TABLE monitoring_settings (
    id                   INT PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    readiness_503_pct    DOUBLE PRECISION NOT NULL DEFAULT 0.5,
    error_rate_pct       DOUBLE PRECISION NOT NULL DEFAULT 2.0,
    latency_p95_ms       INT NOT NULL DEFAULT 500,
    window_seconds       INT NOT NULL DEFAULT 300,
    no_success_seconds   INT NOT NULL DEFAULT 600,
    public_status_page   BOOLEAN NOT NULL DEFAULT false,
    rolled_up_until      TIMESTAMPTZ,
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO monitoring_settings (id) VALUES (1);

CREATE TABLE alerts (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id BIGINT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    endpoint_id    BIGINT NOT NULL REFERENCES probe_endpoints (id) ON DELETE CASCADE,
    rule           TEXT NOT NULL
                   CHECK (rule IN ('readiness_503_rate', 'error_rate', 'latency_p95', 'no_success')),
    severity       TEXT NOT NULL CHECK (severity IN ('p1', 'p2')),
    opened_at      TIMESTAMPTZ NOT NULL,
    resolved_at    TIMESTAMPTZ,
    value          DOUBLE PRECISION NOT NULL,
    threshold      DOUBLE PRECISION NOT NULL,
    message        TEXT NOT NULL
);
CREATE UNIQUE INDEX alerts_one_open_idx ON alerts (endpoint_id, rule) WHERE resolved_at IS NULL;
CREATE INDEX alerts_opened_idx ON alerts (opened_at DESC);

CREATE TABLE webhooks (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    url        TEXT NOT NULL,
    format     TEXT NOT NULL CHECK (format IN ('json', 'slack')),
    enabled    BOOLEAN NOT NULL DEFAULT true,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id      BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    alert_id        BIGINT REFERENCES alerts (id) ON DELETE SET NULL,
    event           TEXT NOT NULL,
    payload         JSONB NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error      TEXT,
    delivered_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- A release going live into an environment that opened a P1: marked, with why, until it
-- ends (the audit trail records the mark).
ALTER TABLE releases ADD COLUMN rollback_suggested_at TIMESTAMPTZ,
                     ADD COLUMN rollback_suggested_because TEXT;

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
