-- +goose Up
-- Survey answers. An anonymous survey's response keeps no enrollment (and
-- no candidate): only its segment (sequence, job, mailbox, month).
CREATE TABLE survey_responses (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    survey        TEXT NOT NULL,
    enrollment_id INTEGER NULL REFERENCES enrollments (id),
    sequence      TEXT NOT NULL DEFAULT '',
    job           TEXT NOT NULL DEFAULT '',
    mailbox       TEXT NOT NULL DEFAULT '',
    month         TEXT NOT NULL,
    score         INTEGER NULL,
    answers       TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX survey_responses_survey ON survey_responses (survey, month);
-- Links already used (one response each), by the hash of their token.
CREATE TABLE survey_links_used (
    token_hash TEXT PRIMARY KEY,
    used_at    TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE survey_links_used;
DROP TABLE survey_responses;
