-- Named queries of the JSON API: tokens, idempotency keys, search.

-- name: token-insert
INSERT INTO api_tokens (name, prefix, hash, scope, created_at) VALUES (?, ?, ?, ?, ?);

-- name: token-by-hash
SELECT id, name, prefix, scope, created_at, last_used_at, revoked_at FROM api_tokens WHERE hash = ?;

-- name: token-list
SELECT id, name, prefix, scope, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id;

-- name: token-revoke
UPDATE api_tokens SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL;

-- name: token-used
UPDATE api_tokens SET last_used_at = ? WHERE id = ?;

-- name: idempotency-begin
INSERT INTO api_idempotency (token_id, key, request_hash, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (token_id, key) DO NOTHING;

-- name: idempotency-get
SELECT request_hash, status, body, created_at FROM api_idempotency WHERE token_id = ? AND key = ?;

-- name: idempotency-reclaim
-- An unfinished request whose process died: the next retry takes it over.
UPDATE api_idempotency SET created_at = ? WHERE token_id = ? AND key = ? AND status = 0 AND created_at < ?;

-- name: idempotency-finish
UPDATE api_idempotency SET status = ?, body = ? WHERE token_id = ? AND key = ?;

-- name: idempotency-drop
DELETE FROM api_idempotency WHERE token_id = ? AND key = ? AND status = 0;

-- name: idempotency-forget
-- A stored response naming an erased candidate.
DELETE FROM api_idempotency WHERE body LIKE ? ESCAPE '\';

-- name: idempotency-expire
DELETE FROM api_idempotency WHERE created_at < ?;

-- name: enrollment-search
-- Enrollments by sequence, status, mailbox, tag and a search over name and
-- email (a LIKE pattern, "\" escaping % and _), newest first; pages by
-- keyset (ids below a cursor; 0: from the newest) or by offset.
SELECT e.id, e.uid, e.candidate_id, c.email, c.name, c.language, c.timezone, e.sequence, e.version_id, e.mailbox,
       e.fields, e.status, e.status_reason, e.next_step, e.next_due_at, e.created_at, e.updated_at
FROM enrollments e JOIN candidates c ON c.id = e.candidate_id
WHERE (? = '' OR e.sequence = ?) AND (? = '' OR e.status = ?) AND (? = '' OR e.mailbox = ?)
  AND (? = '' OR EXISTS (SELECT 1 FROM candidate_tags t WHERE t.candidate_id = c.id AND t.tag = ?))
  AND (? = '' OR LOWER(c.email) LIKE ? ESCAPE '\' OR LOWER(c.name) LIKE ? ESCAPE '\')
  AND (? = 0 OR e.id < ?)
ORDER BY e.id DESC
LIMIT ? OFFSET ?;

-- name: metrics-steps
-- Per sequence, step and template (A/B variant): messages sent in the
-- period, and what came back for each: an inbound message counts for the
-- last message sent to the enrollment before it arrived (before the next
-- one was sent); an unsubscribe through the web page or a suppression
-- counts for the last step sent before the enrollment stopped.
WITH sent AS (
    SELECT m.id, m.enrollment_id, m.step, m.template, m.sent_at,
           LEAD(m.sent_at) OVER (PARTITION BY m.enrollment_id ORDER BY m.sent_at) AS next_at
    FROM messages m
    WHERE m.status = 'sent' AND m.sent_at >= ?
), hits AS (
    SELECT s.id,
           MAX(CASE WHEN i.kind IN ('reply', 'not_interested') THEN 1 ELSE 0 END) AS replied,
           MAX(CASE WHEN i.kind = 'bounce' THEN 1 ELSE 0 END) AS bounced,
           MAX(CASE WHEN i.kind IN ('unsubscribe', 'complaint') THEN 1 ELSE 0 END) AS unsubscribed
    FROM sent s JOIN inbound_messages i ON i.enrollment_id = s.enrollment_id
        AND i.received_at >= s.sent_at AND (s.next_at IS NULL OR i.received_at < s.next_at)
    GROUP BY s.id
)
SELECT e.sequence AS sequence, s.step AS step, s.template AS template, COUNT(*) AS sent,
       COALESCE(SUM(h.replied), 0) AS replied, COALESCE(SUM(h.bounced), 0) AS bounced,
       SUM(CASE WHEN h.unsubscribed = 1 OR (e.status = 'stopped' AND e.status_reason LIKE 'suppressed:%' AND e.next_step = s.step + 1)
                THEN 1 ELSE 0 END) AS unsubscribed
FROM sent s JOIN enrollments e ON e.id = s.enrollment_id LEFT JOIN hits h ON h.id = s.id
WHERE s.sent_at < ?
GROUP BY e.sequence, s.step, s.template
ORDER BY e.sequence, s.step, s.template;

-- name: metrics-enrollments
-- One row per enrollment created in the period: when its first message
-- went out and when the first human answer came.
WITH first_sent AS (
    SELECT enrollment_id, MIN(sent_at) AS at FROM messages WHERE status = 'sent' GROUP BY enrollment_id
), first_reply AS (
    SELECT enrollment_id, MIN(received_at) AS at FROM inbound_messages
    WHERE kind IN ('reply', 'not_interested') AND enrollment_id IS NOT NULL GROUP BY enrollment_id
)
SELECT e.id AS id, e.candidate_id AS candidate_id, e.sequence AS sequence, e.fields AS fields, e.source AS source,
       e.created_at AS created_at, fs.at AS first_sent, fr.at AS first_reply
FROM enrollments e LEFT JOIN first_sent fs ON fs.enrollment_id = e.id LEFT JOIN first_reply fr ON fr.enrollment_id = e.id
WHERE e.created_at >= ? AND e.created_at < ?
ORDER BY e.id;

-- name: tracking-message
SELECT m.id, m.sent_at,
       (SELECT COUNT(*) FROM tracking_events t WHERE t.message_id = m.id AND t.kind = ?) AS n,
       (SELECT MAX(t.created_at) FROM tracking_events t WHERE t.message_id = m.id AND t.kind = 'click') AS last_click
FROM messages m WHERE m.message_id = ? AND m.status = 'sent' AND m.tracked = 1;

-- name: tracking-insert
INSERT INTO tracking_events (message_id, kind, url, class, created_at) VALUES (?, ?, ?, ?, ?);

-- name: metrics-tracking
-- Tracked messages sent in the period, and how many of them a person
-- (or a webmail image proxy for one) opened, and clicked.
SELECT e.sequence AS sequence, COUNT(*) AS tracked,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM tracking_events t WHERE t.message_id = m.id AND t.kind = 'open'
                             AND t.class IN ('person', 'proxy')) THEN 1 ELSE 0 END) AS opened,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM tracking_events t WHERE t.message_id = m.id AND t.kind = 'click'
                             AND t.class IN ('person', 'proxy')) THEN 1 ELSE 0 END) AS clicked,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM tracking_events t WHERE t.message_id = m.id
                             AND t.class NOT IN ('person', 'proxy')) THEN 1 ELSE 0 END) AS machine
FROM messages m JOIN enrollments e ON e.id = m.enrollment_id
WHERE m.status = 'sent' AND m.tracked = 1 AND m.sent_at >= ? AND m.sent_at < ?
GROUP BY e.sequence
ORDER BY e.sequence;

-- name: change-mark
-- Moves whenever something the metrics count is recorded.
SELECT (SELECT COALESCE(MAX(id), 0) FROM events) || '.' || (SELECT COALESCE(MAX(id), 0) FROM survey_responses)
    || '.' || (SELECT COALESCE(MAX(id), 0) FROM tracking_events) || '.' || (SELECT COALESCE(MAX(id), 0) FROM inbound_messages);

-- name: tracking-of-candidate
-- The opens and clicks a person (or a webmail proxy) made, the first of
-- each kind and link per message: what a timeline shows.
SELECT t.message_id AS message_row, t.kind AS kind, t.url AS url, MIN(t.created_at) AS at
FROM tracking_events t JOIN messages m ON m.id = t.message_id JOIN enrollments e ON e.id = m.enrollment_id
JOIN candidates c ON c.id = e.candidate_id
WHERE c.email = ? AND t.class IN ('person', 'proxy')
GROUP BY t.message_id, t.kind, t.url
ORDER BY MIN(t.created_at), MIN(t.id);
