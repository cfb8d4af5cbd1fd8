-- +goose Up
-- Review steps: the rendered draft waits for the recruiter; an approval may
-- carry the recruiter's own wording for this candidate.
ALTER TABLE messages ADD COLUMN draft TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN approved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN override_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN override_body TEXT NOT NULL DEFAULT '';
-- A/B variants: the template a message was rendered from.
ALTER TABLE messages ADD COLUMN template TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_review ON messages (status) WHERE status = 'review';
-- Talent-pool consent (seed 000: ask before keeping someone in the pool).
ALTER TABLE candidates ADD COLUMN pool_consent TEXT NOT NULL DEFAULT '';
ALTER TABLE candidates ADD COLUMN pool_consent_at TIMESTAMP NULL;

-- +goose Down
ALTER TABLE candidates DROP COLUMN pool_consent_at;
ALTER TABLE candidates DROP COLUMN pool_consent;
DROP INDEX messages_review;
ALTER TABLE messages DROP COLUMN template;
ALTER TABLE messages DROP COLUMN override_body;
ALTER TABLE messages DROP COLUMN override_subject;
ALTER TABLE messages DROP COLUMN approved;
ALTER TABLE messages DROP COLUMN draft;
