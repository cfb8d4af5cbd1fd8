-- Candidate tags (store/tags.go).

-- name: tag-insert
INSERT INTO candidate_tags (candidate_id, tag, created_at) VALUES (?, ?, ?)
ON CONFLICT (candidate_id, tag) DO NOTHING;

-- name: tag-delete
DELETE FROM candidate_tags WHERE candidate_id = ? AND tag = ?;

-- name: tags-of
SELECT tag FROM candidate_tags WHERE candidate_id = ? ORDER BY tag;

-- name: tags-all
SELECT tag, COUNT(*) AS n FROM candidate_tags GROUP BY tag ORDER BY tag;

-- name: candidates-with-tag
SELECT c.id, c.email, c.name, c.language, c.timezone, c.undeliverable_reason, c.undeliverable_at, c.created_at
FROM candidate_tags t JOIN candidates c ON c.id = t.candidate_id
WHERE t.tag = ?
ORDER BY c.id;

-- name: forget-tags
DELETE FROM candidate_tags WHERE candidate_id = ?;
