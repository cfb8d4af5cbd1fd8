-- Operations: readiness and Prometheus metrics.

-- name: ping
SELECT 1;

-- name: sent-by-mailbox
SELECT e.mailbox, COUNT(*) AS n
FROM messages m JOIN enrollments e ON e.id = m.enrollment_id
WHERE m.status = 'sent'
GROUP BY e.mailbox;

-- name: failed-by-mailbox
-- Every message.failed (a permanent refusal, retries used up, a refused
-- message) writes one send_failed event on its enrollment.
SELECT e.mailbox, COUNT(*) AS n
FROM events ev JOIN enrollments e ON e.id = ev.enrollment_id
WHERE ev.kind = 'send_failed'
GROUP BY e.mailbox;

-- name: due-count
SELECT COUNT(*) FROM enrollments WHERE status = 'active' AND next_due_at <= ?;
