-- +goose Up
-- People who sign in to the dashboard. The password is kept only as a
-- bcrypt hash; language is the dashboard's language for them ('' = the
-- browser's).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    login         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    language      TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

-- Dashboard sessions, by the SHA-256 of their random id: the database
-- never holds a value that could be replayed as a cookie.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Talent-pool tags (skills, industry, desired role, "urgent"…).
CREATE TABLE candidate_tags (
    candidate_id INTEGER NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    tag          TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (candidate_id, tag)
);
CREATE INDEX candidate_tags_tag ON candidate_tags (tag);

-- The recruiters' own notes on a candidate.
CREATE TABLE notes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id INTEGER NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    author       TEXT NOT NULL DEFAULT '',
    text         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX notes_candidate ON notes (candidate_id, created_at);

-- +goose Down
DROP TABLE notes;
DROP TABLE candidate_tags;
DROP TABLE sessions;
DROP TABLE users;
