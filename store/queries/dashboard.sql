-- What the dashboard reads besides the core queries: the filtered
-- enrollment list, notes, a candidate's survey answers, the per-step
-- overview (store/dashboard.go).

-- name: candidate-by-id
SELECT id, email, name, language, timezone, undeliverable_reason, undeliverable_at, created_at
FROM candidates WHERE id = ?;

-- name: note-insert
INSERT INTO notes (candidate_id, author, text, created_at) VALUES (?, ?, ?, ?);

-- name: notes-of
SELECT id, author, text, created_at FROM notes WHERE candidate_id = ? ORDER BY created_at, id;

-- name: forget-notes
DELETE FROM notes WHERE candidate_id = ?;

-- name: survey-answers-of
SELECT r.survey AS survey, r.score AS score, r.answers AS answers, r.created_at AS created_at, e.sequence AS sequence
FROM survey_responses r JOIN enrollments e ON e.id = r.enrollment_id
WHERE e.candidate_id = ?
ORDER BY r.created_at, r.id;

-- name: step-overview
-- Per sequence, step and template: messages sent, and what came back
-- after each. An answer counts for the last step sent before it.
SELECT e.sequence AS sequence, m.step AS step, m.template AS template, COUNT(*) AS sent,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM inbound_messages i
                             WHERE i.enrollment_id = e.id AND i.kind IN ('reply', 'not_interested') AND i.received_at >= m.sent_at
                               AND NOT EXISTS (SELECT 1 FROM messages m2 WHERE m2.enrollment_id = m.enrollment_id AND m2.status = 'sent'
                                                 AND m2.sent_at > m.sent_at AND m2.sent_at <= i.received_at))
                THEN 1 ELSE 0 END) AS replied,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM inbound_messages i
                             WHERE i.enrollment_id = e.id AND i.kind = 'bounce' AND i.received_at >= m.sent_at
                               AND NOT EXISTS (SELECT 1 FROM messages m2 WHERE m2.enrollment_id = m.enrollment_id AND m2.status = 'sent'
                                                 AND m2.sent_at > m.sent_at AND m2.sent_at <= i.received_at))
                THEN 1 ELSE 0 END) AS bounced,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM inbound_messages i
                             WHERE i.enrollment_id = e.id AND i.kind IN ('unsubscribe', 'complaint') AND i.received_at >= m.sent_at
                               AND NOT EXISTS (SELECT 1 FROM messages m2 WHERE m2.enrollment_id = m.enrollment_id AND m2.status = 'sent'
                                                 AND m2.sent_at > m.sent_at AND m2.sent_at <= i.received_at))
                  OR (e.status = 'stopped' AND e.status_reason LIKE 'suppressed:%' AND e.next_step = m.step + 1)
                THEN 1 ELSE 0 END) AS unsubscribed
FROM messages m JOIN enrollments e ON e.id = m.enrollment_id
WHERE m.status = 'sent'
GROUP BY e.sequence, m.step, m.template
ORDER BY e.sequence, m.step, m.template;

-- name: message-texts-of
-- What is kept of a review step's text besides the body as sent: the
-- rendered draft and the recruiter's own wording.
SELECT m.id AS id, m.template AS template, m.draft AS draft, m.override_subject AS override_subject, m.override_body AS override_body
FROM messages m JOIN enrollments e ON e.id = m.enrollment_id
WHERE e.candidate_id = ?;
