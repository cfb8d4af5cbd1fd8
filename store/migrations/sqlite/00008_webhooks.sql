-- +goose Up
-- Signed webhooks: the events table is the outbox. The dispatcher reads
-- events after its cursor and writes one delivery per (endpoint, event).
CREATE TABLE webhook_cursor (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id INTEGER NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint         TEXT NOT NULL, -- the endpoint's URL
    event_id         INTEGER NOT NULL,
    event_type       TEXT NOT NULL, -- message.sent, reply.received, ...
    candidate_id     INTEGER NULL REFERENCES candidates (id),
    payload          TEXT NOT NULL, -- the JSON body, identical on every attempt
    status           TEXT NOT NULL, -- pending, delivered, failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NULL,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    retry_from       TIMESTAMP NOT NULL, -- retries give up a day after this (created_at, or a manual retry)
    updated_at       TIMESTAMP NOT NULL,
    delivered_at     TIMESTAMP NULL,
    UNIQUE (endpoint, event_id)
);
-- Each endpoint's worker scans only its due pending deliveries.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint, next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_candidate ON webhook_deliveries (candidate_id);

-- Endpoints switched off by the receiver (410 Gone) until an operator
-- turns them on again (followup webhooks enable URL).
CREATE TABLE webhook_endpoints_disabled (
    endpoint    TEXT PRIMARY KEY,
    reason      TEXT NOT NULL DEFAULT '',
    disabled_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE webhook_endpoints_disabled;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_cursor;
