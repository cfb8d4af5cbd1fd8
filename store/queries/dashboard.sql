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
SELECT r.survey AS survey, r.score AS score, r.answers AS answers, r.created_at AS created_at, e.sequence AS sequence,
       e.uid AS enrollment_uid
FROM survey_responses r JOIN enrollments e ON e.id = r.enrollment_id
WHERE e.candidate_id = ?
ORDER BY r.created_at, r.id;

-- name: message-texts-of
-- What is kept of a review step's text besides the body as sent: the
-- rendered draft and the recruiter's own wording.
SELECT m.id AS id, m.template AS template, m.draft AS draft, m.override_subject AS override_subject, m.override_body AS override_body
FROM messages m JOIN enrollments e ON e.id = m.enrollment_id
WHERE e.candidate_id = ?;
