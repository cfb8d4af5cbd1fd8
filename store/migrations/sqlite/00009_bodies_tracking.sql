-- +goose Up
-- The text of each email as sent (the dashboard shows it; templates may
-- have changed since), and whether it carried open/click tracking.
ALTER TABLE messages ADD COLUMN body TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN tracked INTEGER NOT NULL DEFAULT 0;

-- Opens and clicks, when tracking is on (off by default). No address, no
-- IP: the class says who probably opened (person, mail proxy, scanner).
CREATE TABLE tracking_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    kind       TEXT NOT NULL,
    url        TEXT NOT NULL DEFAULT '',
    class      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX tracking_events_message ON tracking_events (message_id, kind);

-- +goose Down
DROP TABLE tracking_events;
ALTER TABLE messages DROP COLUMN tracked;
ALTER TABLE messages DROP COLUMN body;
