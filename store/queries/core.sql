-- Named queries, prepared when the store opens so a broken query fails at
-- start-up. Placeholders are "?" and rebound for PostgreSQL; only SQL that
-- both SQLite and PostgreSQL accept is used here.

-- name: candidate-upsert
INSERT INTO candidates (email, name, language, timezone, pool_consent, pool_consent_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, CASE WHEN ? <> '' THEN ? ELSE NULL END, ?, ?)
ON CONFLICT (email) DO UPDATE SET
    name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE candidates.name END,
    language = CASE WHEN excluded.language <> '' THEN excluded.language ELSE candidates.language END,
    timezone = CASE WHEN excluded.timezone <> '' THEN excluded.timezone ELSE candidates.timezone END,
    pool_consent = CASE WHEN excluded.pool_consent <> '' THEN excluded.pool_consent ELSE candidates.pool_consent END,
    pool_consent_at = CASE WHEN excluded.pool_consent <> '' THEN excluded.pool_consent_at ELSE candidates.pool_consent_at END,
    updated_at = excluded.updated_at
RETURNING id, undeliverable_reason, pool_consent;

-- name: candidate-by-email
SELECT id, email, name, language, timezone, undeliverable_reason, undeliverable_at, created_at
FROM candidates WHERE email = ?;

-- name: candidate-undeliverable
UPDATE candidates SET undeliverable_at = ?, undeliverable_reason = ?, updated_at = ? WHERE id = ?;

-- name: version-id
SELECT id FROM sequence_versions WHERE sequence = ? AND hash = ?;

-- name: version-insert
INSERT INTO sequence_versions (sequence, hash, definition, created_at) VALUES (?, ?, ?, ?) RETURNING id;

-- name: version-definition
SELECT definition FROM sequence_versions WHERE id = ?;

-- name: enrollment-by-key
SELECT e.id, e.uid, e.candidate_id, c.email, c.name, c.language, c.timezone, e.sequence, e.version_id, e.mailbox,
       e.fields, e.status, e.status_reason, e.next_step, e.next_due_at, e.created_at, e.updated_at
FROM enrollments e JOIN candidates c ON c.id = e.candidate_id
WHERE e.idempotency_key = ?;

-- name: enrollment-live
SELECT e.id, e.uid, e.candidate_id, c.email, c.name, c.language, c.timezone, e.sequence, e.version_id, e.mailbox,
       e.fields, e.status, e.status_reason, e.next_step, e.next_due_at, e.created_at, e.updated_at
FROM enrollments e JOIN candidates c ON c.id = e.candidate_id
WHERE e.candidate_id = ? AND e.sequence = ? AND e.status IN ('active', 'paused');

-- name: enrollment-insert
INSERT INTO enrollments (uid, candidate_id, sequence, version_id, mailbox, fields, status, next_step, next_due_at,
                         idempotency_key, source, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, 'active', 0, ?, ?, ?, ?, ?)
RETURNING id;

-- name: enrollment-by-id
SELECT e.id, e.uid, e.candidate_id, c.email, c.name, c.language, c.timezone, e.sequence, e.version_id, e.mailbox,
       e.fields, e.status, e.status_reason, e.next_step, e.next_due_at, e.created_at, e.updated_at
FROM enrollments e JOIN candidates c ON c.id = e.candidate_id
WHERE e.id = ?;

-- name: enrollments-of-candidate
SELECT e.id, e.uid, e.candidate_id, c.email, c.name, c.language, c.timezone, e.sequence, e.version_id, e.mailbox,
       e.fields, e.status, e.status_reason, e.next_step, e.next_due_at, e.created_at, e.updated_at
FROM enrollments e JOIN candidates c ON c.id = e.candidate_id
WHERE c.email = ?
ORDER BY e.id;

-- name: enrollment-list
SELECT e.id, e.uid, e.candidate_id, c.email, c.name, c.language, c.timezone, e.sequence, e.version_id, e.mailbox,
       e.fields, e.status, e.status_reason, e.next_step, e.next_due_at, e.created_at, e.updated_at
FROM enrollments e JOIN candidates c ON c.id = e.candidate_id
WHERE (? = '' OR e.sequence = ?) AND (? = '' OR e.status = ?) AND e.id > ?
ORDER BY e.id
LIMIT ?;

-- name: due-list
-- "blocked": the address may not be mailed (suppressed or undeliverable);
-- such an enrollment is stopped instead of sent.
SELECT e.id, e.uid, e.candidate_id, c.email, c.name, c.language, c.timezone, e.sequence, e.version_id, e.mailbox,
       e.fields, e.status, e.status_reason, e.next_step, e.next_due_at, e.created_at, e.updated_at,
       CASE WHEN c.undeliverable_at IS NOT NULL OR EXISTS (SELECT 1 FROM suppressions s WHERE s.email = c.email)
            THEN 1 ELSE 0 END AS blocked
FROM enrollments e JOIN candidates c ON c.id = e.candidate_id
WHERE e.status = 'active' AND e.next_due_at <= ?
ORDER BY e.next_due_at
LIMIT ?;

-- name: due-peek
SELECT e.id, e.uid, e.candidate_id, c.email, c.name, c.language, c.timezone, e.sequence, e.version_id, e.mailbox,
       e.fields, e.status, e.status_reason, e.next_step, e.next_due_at, e.created_at, e.updated_at
FROM enrollments e JOIN candidates c ON c.id = e.candidate_id
WHERE e.status = 'active' AND e.next_due_at <= ?
ORDER BY e.next_due_at
LIMIT ?;

-- name: next-due
SELECT next_due_at FROM enrollments
WHERE status = 'active' AND next_due_at IS NOT NULL
ORDER BY next_due_at
LIMIT 1;

-- name: enrollment-set-due
UPDATE enrollments SET next_due_at = ?, updated_at = ? WHERE id = ?;

-- name: enrollment-advance
UPDATE enrollments SET
    next_step = ?,
    next_due_at = ?,
    status = CASE WHEN ? = 1 THEN 'finished' ELSE status END,
    status_reason = CASE WHEN ? = 1 THEN '' ELSE status_reason END,
    updated_at = ?
WHERE id = ?;

-- name: enrollment-set-status
UPDATE enrollments SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?;

-- name: enrollment-hold
UPDATE enrollments SET status = 'paused', status_reason = ?, updated_at = ?
WHERE id = ? AND status IN ('active', 'paused');

-- name: message-claim
INSERT INTO messages (enrollment_id, step, message_id, status, claimed_at, created_at, updated_at)
VALUES (?, ?, ?, 'sending', ?, ?, ?)
ON CONFLICT (enrollment_id, step) DO UPDATE SET
    status = 'sending', claimed_at = excluded.claimed_at, updated_at = excluded.updated_at
WHERE messages.status = 'deferred'
RETURNING id, attempts, approved, override_subject, override_body;

-- name: message-sent
UPDATE messages SET status = 'sent', sent_at = ?, from_addr = ?, to_addr = ?, subject = ?, in_reply_to = ?, template = ?,
    body = ?, tracked = ?, attempts = attempts + 1, error = '', updated_at = ?
WHERE id = ?;

-- name: message-defer
UPDATE messages SET status = 'deferred', attempts = attempts + ?, error = ?, updated_at = ? WHERE id = ?;

-- name: message-set-status
UPDATE messages SET status = ?, attempts = attempts + ?, error = ?, updated_at = ? WHERE id = ?;

-- name: message-details
UPDATE messages SET from_addr = ?, to_addr = ?, subject = ?, in_reply_to = ?, template = ? WHERE id = ?;

-- name: message-review
UPDATE messages SET status = 'review', draft = ?, subject = ?, from_addr = ?, to_addr = ?, template = ?, updated_at = ?
WHERE id = ?;

-- name: reviews-pending
SELECT m.id, m.enrollment_id, m.step, m.subject, m.draft, m.template, m.created_at, c.email, c.name, e.sequence
FROM messages m JOIN enrollments e ON e.id = m.enrollment_id JOIN candidates c ON c.id = e.candidate_id
WHERE m.status = 'review'
ORDER BY m.created_at;

-- name: review-approve
UPDATE messages SET status = 'deferred', approved = 1, override_subject = ?, override_body = ?, updated_at = ?
WHERE id = ? AND status = 'review';

-- name: pool-consent
UPDATE candidates SET pool_consent = ?, pool_consent_at = ?, updated_at = ? WHERE email = ?;

-- name: pool-consent-get
SELECT pool_consent FROM candidates WHERE email = ?;

-- name: message-assume-sent
UPDATE messages SET status = 'sent', sent_at = ?, error = '', updated_at = ? WHERE id = ?;

-- name: message-reset-attempts
UPDATE messages SET attempts = 0, updated_at = ? WHERE id = ? AND status = 'deferred';

-- name: message-get
SELECT id, enrollment_id, step, message_id, status, attempts, from_addr, to_addr, subject, in_reply_to, error,
       claimed_at, sent_at, created_at
FROM messages WHERE enrollment_id = ? AND step = ?;

-- name: messages-stale
SELECT id, enrollment_id, step, message_id, status, attempts, from_addr, to_addr, subject, in_reply_to, error,
       claimed_at, sent_at, created_at
FROM messages WHERE status = 'sending' AND claimed_at < ?;

-- name: thread
SELECT message_id, subject FROM messages
WHERE enrollment_id = ? AND status = 'sent' AND step < ?
ORDER BY step;

-- name: messages-of-candidate
SELECT m.id, m.enrollment_id, m.step, m.message_id, m.status, m.attempts, m.from_addr, m.to_addr, m.subject,
       m.in_reply_to, m.error, m.body, m.claimed_at, m.sent_at, m.created_at
FROM messages m JOIN enrollments e ON e.id = m.enrollment_id JOIN candidates c ON c.id = e.candidate_id
WHERE c.email = ?
ORDER BY m.id;

-- name: event-insert
INSERT INTO events (candidate_id, enrollment_id, kind, detail, created_at) VALUES (?, ?, ?, ?, ?);

-- name: events-of-candidate
SELECT ev.id, ev.enrollment_id, ev.kind, ev.detail, ev.created_at
FROM events ev JOIN candidates c ON c.id = ev.candidate_id
WHERE c.email = ?
ORDER BY ev.id;

-- name: sent-per-sequence
SELECT e.sequence AS sequence, COUNT(*) AS sent
FROM messages m JOIN enrollments e ON e.id = m.enrollment_id
WHERE m.status = 'sent'
GROUP BY e.sequence
ORDER BY e.sequence;

-- name: status-counts
SELECT sequence, status, COUNT(*) AS n FROM enrollments GROUP BY sequence, status ORDER BY sequence, status;

-- name: checkpoint-get
SELECT mailbox, uidvalidity, last_uid FROM inbox_checkpoints WHERE mailbox = ?;

-- name: checkpoint-save
INSERT INTO inbox_checkpoints (mailbox, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,
    updated_at = excluded.updated_at;

-- name: match-message-id
SELECT c.id AS candidate_id, c.email, e.id AS enrollment_id, e.version_id, e.sequence
FROM messages m JOIN enrollments e ON e.id = m.enrollment_id JOIN candidates c ON c.id = e.candidate_id
WHERE m.message_id = ?;

-- name: match-address
SELECT c.id AS candidate_id, c.email, COALESCE(e.id, 0) AS enrollment_id, COALESCE(e.version_id, 0) AS version_id,
       COALESCE(e.sequence, '') AS sequence
FROM candidates c
LEFT JOIN enrollments e ON e.id = (
    SELECT e2.id FROM enrollments e2 WHERE e2.candidate_id = c.id ORDER BY e2.updated_at DESC, e2.id DESC LIMIT 1)
WHERE c.email = ?;

-- name: oldest-live-enrollment
SELECT created_at FROM enrollments WHERE status IN ('active', 'paused') ORDER BY created_at LIMIT 1;

-- name: inbound-insert
INSERT INTO inbound_messages (mailbox, message_id, uidvalidity, uid, from_addr, subject, kind, reason, text, matched_by,
                              candidate_id, enrollment_id, received_at, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (mailbox, message_id) DO NOTHING
RETURNING id;

-- name: inbound-of-candidate
SELECT i.id, i.mailbox, i.message_id, i.from_addr, i.subject, i.kind, i.reason, i.text, i.matched_by,
       i.enrollment_id, i.received_at
FROM inbound_messages i JOIN candidates c ON c.id = i.candidate_id
WHERE c.email = ?
ORDER BY i.received_at, i.id;

-- name: live-of-candidate
SELECT id, sequence, status FROM enrollments WHERE candidate_id = ? AND status IN ('active', 'paused');

-- name: postpone
UPDATE enrollments SET next_due_at = ?, updated_at = ?
WHERE candidate_id = ? AND status = 'active' AND next_due_at IS NOT NULL AND next_due_at < ?;

-- name: suppress
INSERT INTO suppressions (email, reason, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING;

-- name: suppression-get
-- An erased candidate's suppression is kept as "sha256:" + the hash of the
-- address (the second parameter), so they stay suppressed.
SELECT email, reason, created_at FROM suppressions WHERE email = ? OR email = ?;

-- name: suppression-list
SELECT email, reason, created_at FROM suppressions ORDER BY created_at, email;

-- name: suppression-delete
DELETE FROM suppressions WHERE email = ?;

-- name: candidate-id
SELECT id FROM candidates WHERE email = ?;

-- name: forget-candidate
UPDATE candidates SET email = ?, name = '', timezone = '', undeliverable_reason = CASE WHEN undeliverable_at IS NULL THEN '' ELSE 'erased' END,
    updated_at = ?
WHERE id = ?;

-- name: forget-enrollments
UPDATE enrollments SET fields = '{}', idempotency_key = NULL, source = '',
    status = CASE WHEN status IN ('active', 'paused') THEN 'stopped' ELSE status END,
    status_reason = 'personal data erased on request', updated_at = ?
WHERE candidate_id = ?;

-- name: forget-messages
UPDATE messages SET to_addr = '', subject = '', error = '', body = '', draft = '', override_subject = '', override_body = '', updated_at = ?
WHERE enrollment_id IN (SELECT id FROM enrollments WHERE candidate_id = ?);

-- name: forget-survey-responses
-- Answers linked to the candidate (free text may name them) are deleted;
-- anonymous answers were never linked and stay.
DELETE FROM survey_responses
WHERE enrollment_id IN (SELECT id FROM enrollments WHERE candidate_id = ?);

-- name: forget-events
UPDATE events SET detail = '' WHERE candidate_id = ?;

-- name: forget-inbound
UPDATE inbound_messages SET from_addr = '', subject = '', text = '' WHERE candidate_id = ?;

-- name: forget-suppression
UPDATE suppressions SET email = ? WHERE email = ?;

-- name: soft-bounce
UPDATE candidates SET soft_bounces = soft_bounces + 1, updated_at = ? WHERE id = ? RETURNING soft_bounces;

-- name: enrollment-status
SELECT status FROM enrollments WHERE id = ?;

-- name: sent-to-candidate-since
SELECT m.message_id, m.sent_at FROM messages m JOIN enrollments e ON e.id = m.enrollment_id
WHERE e.candidate_id = ? AND m.status = 'sent' AND m.sent_at > ?
ORDER BY m.sent_at;

-- name: sent-from-since
SELECT COUNT(*) FROM messages WHERE from_addr = ? AND status = 'sent' AND sent_at >= ?;

-- name: enrollment-by-uid
SELECT e.id, e.uid, e.candidate_id, c.email, c.name, c.language, c.timezone, e.sequence, e.version_id, e.mailbox,
       e.fields, e.status, e.status_reason, e.next_step, e.next_due_at, e.created_at, e.updated_at
FROM enrollments e JOIN candidates c ON c.id = e.candidate_id
WHERE e.uid = ?;

-- name: variant-report
-- Per step and template (variant): messages sent, and how many of those
-- enrollments got a human answer after it.
SELECT e.sequence AS sequence, m.step AS step, m.template AS template, COUNT(*) AS sent,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM inbound_messages i
                             WHERE i.enrollment_id = e.id AND i.kind IN ('reply', 'not_interested')
                               AND i.received_at >= m.sent_at) THEN 1 ELSE 0 END) AS replied
FROM messages m JOIN enrollments e ON e.id = m.enrollment_id
WHERE m.status = 'sent'
GROUP BY e.sequence, m.step, m.template
ORDER BY e.sequence, m.step, m.template;

-- name: survey-link-use
INSERT INTO survey_links_used (token_hash, used_at) VALUES (?, ?) ON CONFLICT (token_hash) DO NOTHING;

-- name: survey-link
-- What opening a survey link needs: the candidate's language and whether
-- the link was already answered (no row: no such enrollment).
SELECT c.language AS language,
       EXISTS (SELECT 1 FROM survey_links_used WHERE token_hash = ?) AS used
FROM enrollments e JOIN candidates c ON c.id = e.candidate_id
WHERE e.uid = ?;

-- name: survey-response-insert
INSERT INTO survey_responses (survey, enrollment_id, sequence, job, mailbox, month, score, answers, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: survey-responses
SELECT survey, sequence, job, mailbox, month, score, answers, created_at FROM survey_responses
WHERE (? = '' OR survey = ?)
ORDER BY created_at, id;
