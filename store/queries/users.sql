-- Dashboard users and their sessions (store/users.go).

-- name: user-insert
INSERT INTO users (login, password_hash, language, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (login) DO NOTHING;

-- name: user-by-login
SELECT id, login, password_hash, language, created_at FROM users WHERE login = ?;

-- name: user-list
SELECT id, login, password_hash, language, created_at FROM users ORDER BY login;

-- name: user-delete
DELETE FROM users WHERE login = ?;

-- name: user-set-password
UPDATE users SET password_hash = ?, updated_at = ? WHERE login = ?;

-- name: user-set-language
UPDATE users SET language = ?, updated_at = ? WHERE id = ?;

-- name: user-sessions-delete
DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE login = ?);

-- name: session-insert
INSERT INTO sessions (id_hash, user_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?);

-- name: session-get
SELECT s.id_hash, s.user_id, s.created_at, s.expires_at, s.last_seen_at, u.login, u.language
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id_hash = ?;

-- name: session-touch
UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?;

-- name: session-delete
DELETE FROM sessions WHERE id_hash = ?;

-- name: sessions-expired-delete
DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?;
