-- Signed webhooks: the events table is the outbox (see webhooks/).

-- name: webhook-cursor
SELECT last_event_id FROM webhook_cursor WHERE id = 1;

-- name: webhook-cursor-save
INSERT INTO webhook_cursor (id, last_event_id, updated_at) VALUES (1, ?, ?)
ON CONFLICT (id) DO UPDATE SET last_event_id = excluded.last_event_id, updated_at = excluded.updated_at;

-- name: latest-event-id
SELECT COALESCE(MAX(id), 0) FROM events;

-- name: webhook-events
-- An event with what its payload tells: the candidate, the enrollment, the
-- message of a "sent" event (its detail is the Message-ID), and the subject
-- of the inbound message recorded in the same transaction.
SELECT ev.id, ev.kind, ev.detail, ev.created_at, ev.candidate_id,
       c.email, c.name,
       COALESCE(e.uid, '') AS enrollment_uid,
       COALESCE(e.sequence, '') AS sequence,
       COALESCE(e.mailbox, '') AS mailbox,
       COALESCE(e.status, '') AS enrollment_status,
       COALESCE(e.next_step, 0) AS next_step,
       COALESCE(m.step, -1) AS step,
       COALESCE(m.subject, '') AS subject,
       COALESCE(m.message_id, '') AS message_id,
       COALESCE((SELECT im.subject FROM inbound_messages im
                 WHERE ev.kind IN ('reply', 'not_interested', 'bounce', 'unsubscribe', 'complaint')
                   AND im.candidate_id = ev.candidate_id AND im.kind = ev.kind AND im.created_at = ev.created_at
                 ORDER BY im.id DESC LIMIT 1), '') AS inbound_subject
FROM events ev
JOIN candidates c ON c.id = ev.candidate_id
LEFT JOIN enrollments e ON e.id = ev.enrollment_id
LEFT JOIN messages m ON ev.kind = 'sent' AND m.message_id = ev.detail
WHERE ev.id > ?
ORDER BY ev.id
LIMIT ?;

-- name: webhook-delivery-insert
INSERT INTO webhook_deliveries (endpoint, event_id, event_type, candidate_id, payload, status, attempts, next_attempt_at, created_at, retry_from, updated_at)
VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)
ON CONFLICT (endpoint, event_id) DO NOTHING;

-- name: webhook-due
SELECT id, endpoint, event_id, event_type, payload, status, attempts, next_attempt_at, last_status_code, last_error,
       created_at, retry_from, updated_at, delivered_at
FROM webhook_deliveries
WHERE status = 'pending' AND endpoint = ? AND next_attempt_at <= ?
ORDER BY next_attempt_at, id
LIMIT ?;

-- name: webhook-attempt
UPDATE webhook_deliveries
SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_status_code = ?, last_error = ?, updated_at = ?,
    delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END
WHERE id = ?;

-- name: webhook-list
SELECT id, endpoint, event_id, event_type, payload, status, attempts, next_attempt_at, last_status_code, last_error,
       created_at, retry_from, updated_at, delivered_at
FROM webhook_deliveries
WHERE (? = '' OR status = ?) AND (? = '' OR endpoint = ?) AND (? = 0 OR id < ?)
ORDER BY id DESC
LIMIT ?;

-- name: webhook-get
SELECT id, endpoint, event_id, event_type, payload, status, attempts, next_attempt_at, last_status_code, last_error,
       created_at, retry_from, updated_at, delivered_at
FROM webhook_deliveries WHERE id = ?;

-- name: webhook-retry
UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, retry_from = ?, updated_at = ? WHERE id = ?;

-- name: webhook-pending-count
SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending';

-- name: webhook-disabled
SELECT endpoint, reason FROM webhook_endpoints_disabled;

-- name: webhook-disable
INSERT INTO webhook_endpoints_disabled (endpoint, reason, disabled_at) VALUES (?, ?, ?)
ON CONFLICT (endpoint) DO NOTHING;

-- name: webhook-enable
DELETE FROM webhook_endpoints_disabled WHERE endpoint = ?;

-- name: forget-webhook-deliveries
DELETE FROM webhook_deliveries WHERE candidate_id = ?;
