-- +goose Up
-- Daily caps count a mailbox's sends since midnight.
CREATE INDEX messages_from_sent ON messages (from_addr, sent_at) WHERE status = 'sent';

-- +goose Down
DROP INDEX messages_from_sent;
