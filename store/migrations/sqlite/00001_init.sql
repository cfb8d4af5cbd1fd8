-- +goose Up
CREATE TABLE candidates (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    email                TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL DEFAULT '',
    language             TEXT NOT NULL DEFAULT '',
    timezone             TEXT NOT NULL DEFAULT '',
    undeliverable_reason TEXT NOT NULL DEFAULT '',
    undeliverable_at     TIMESTAMP NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);

-- Every version of a sequence an enrollment ever started on, frozen.
CREATE TABLE sequence_versions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sequence   TEXT NOT NULL,
    hash       TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (sequence, hash)
);

CREATE TABLE enrollments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    uid             TEXT NOT NULL UNIQUE,
    candidate_id    INTEGER NOT NULL REFERENCES candidates (id),
    sequence        TEXT NOT NULL,
    version_id      INTEGER NOT NULL REFERENCES sequence_versions (id),
    mailbox         TEXT NOT NULL,
    fields          TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL,
    status_reason   TEXT NOT NULL DEFAULT '',
    next_step       INTEGER NOT NULL DEFAULT 0,
    next_due_at     TIMESTAMP NULL,
    idempotency_key TEXT NULL UNIQUE,
    source          TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
-- The scheduler's only scan: active enrollments by due time.
CREATE INDEX enrollments_due ON enrollments (next_due_at) WHERE status = 'active';
-- At most one live enrollment per candidate and sequence.
CREATE UNIQUE INDEX enrollments_live ON enrollments (candidate_id, sequence) WHERE status IN ('active', 'paused');
CREATE INDEX enrollments_candidate ON enrollments (candidate_id);
CREATE INDEX enrollments_sequence_status ON enrollments (sequence, status);

-- One row per (enrollment, step): the send record.
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id INTEGER NOT NULL REFERENCES enrollments (id),
    step          INTEGER NOT NULL,
    message_id    TEXT NOT NULL UNIQUE,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    from_addr     TEXT NOT NULL DEFAULT '',
    to_addr       TEXT NOT NULL DEFAULT '',
    subject       TEXT NOT NULL DEFAULT '',
    in_reply_to   TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    claimed_at    TIMESTAMP NULL,
    sent_at       TIMESTAMP NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    UNIQUE (enrollment_id, step)
);
CREATE INDEX messages_status ON messages (status) WHERE status IN ('sending', 'unknown');

CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id  INTEGER NOT NULL REFERENCES candidates (id),
    enrollment_id INTEGER NULL REFERENCES enrollments (id),
    kind          TEXT NOT NULL,
    detail        TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX events_candidate ON events (candidate_id, created_at);

-- +goose Down
DROP TABLE events;
DROP TABLE messages;
DROP TABLE enrollments;
DROP TABLE sequence_versions;
DROP TABLE candidates;
