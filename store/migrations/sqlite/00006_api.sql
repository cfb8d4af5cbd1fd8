-- +goose Up
-- Bearer tokens of the JSON API: only a SHA-256 hash of the token is kept
-- (tokens are 256-bit random, so a fast hash is enough); the prefix is shown
-- in listings so a person can tell tokens apart.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NULL,
    revoked_at   TIMESTAMP NULL
);

-- Requests sent with an Idempotency-Key: the first response is kept and
-- replayed for a retry of the same request by the same token.
CREATE TABLE api_idempotency (
    token_id     INTEGER NOT NULL REFERENCES api_tokens (id),
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    body         TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (token_id, key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);

-- The metrics attribute replies and bounces to enrollments.
CREATE INDEX inbound_enrollment ON inbound_messages (enrollment_id, received_at);

-- +goose Down
DROP INDEX inbound_enrollment;
DROP TABLE api_idempotency;
DROP TABLE api_tokens;
