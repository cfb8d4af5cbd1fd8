-- +goose Up
-- How far each mailbox folder has been read (RFC 9051 §2.3.1.1).
CREATE TABLE inbox_checkpoints (
    mailbox     TEXT PRIMARY KEY,
    uidvalidity BIGINT NOT NULL,
    last_uid    BIGINT NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

-- Messages read from recruiters' mailboxes that concern a candidate.
CREATE TABLE inbound_messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox       TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    uidvalidity   BIGINT NOT NULL,
    uid           BIGINT NOT NULL,
    from_addr     TEXT NOT NULL DEFAULT '',
    subject       TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    text          TEXT NOT NULL DEFAULT '',
    matched_by    TEXT NOT NULL DEFAULT '',
    candidate_id  INTEGER NOT NULL REFERENCES candidates (id),
    enrollment_id INTEGER NULL REFERENCES enrollments (id),
    received_at   TIMESTAMP NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    UNIQUE (mailbox, message_id)
);
CREATE INDEX inbound_candidate ON inbound_messages (candidate_id, received_at);

-- Addresses that must never be mailed again (unsubscribe, complaint).
CREATE TABLE suppressions (
    email      TEXT PRIMARY KEY,
    reason     TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);

ALTER TABLE candidates ADD COLUMN soft_bounces INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE candidates DROP COLUMN soft_bounces;
DROP TABLE suppressions;
DROP TABLE inbound_messages;
DROP TABLE inbox_checkpoints;
