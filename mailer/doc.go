// Package mailer delivers rendered messages over SMTP with go-mail: implicit
// TLS, STARTTLS or plain, SMTP AUTH, one reused connection per worker, and a
// precise verdict for every failure — retry later, never retry, or "maybe
// delivered" — so the scheduler can keep its promise of never losing and
// never doubling a message.
package mailer
