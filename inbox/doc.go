// Package inbox reads the recruiter's own mailbox so that Followup stops a
// sequence the moment a candidate answers.
//
// # What the inbox does
//
// For every configured mailbox a Watcher reads one folder over IMAP
// (go-imap v2; IDLE where the server has it, else polling; the ID command
// NetEase requires before SELECT; a timed NOOP as watchdog because go-imap
// has no deadlines). It never changes the mailbox: the folder is opened
// read-only and bodies are fetched with BODY.PEEK, so nothing is marked
// read, moved or deleted. Processing is exactly-once: a Checkpoint of
// UIDVALIDITY and the last UID handled (RFC 9051 §2.3.1.1) moves forward
// only together with what the message caused, so a crash replays at most
// the message in flight and never skips one. Each message is then
//
//  1. parsed (Parse), at most Watcher.MaxBytes of it;
//  2. classified (Classify);
//  3. matched to a candidate and enrollment: by In-Reply-To and References
//     against the Message-IDs Followup sent, for bounces and complaints
//     also by the returned original's Message-ID (Parsed.Original), and
//     otherwise by address (the sender of a reply, Bounce.Recipient);
//  4. acted on in one transaction: a reply, unsubscribe or not-interested
//     stops (or, as the sequence says, pauses) the candidate's pending
//     steps and lands on the timeline with the candidate's own words
//     (Classification.Reply); an unsubscribe, a complaint and a hard bounce
//     make the address undeliverable, soft bounces do after a few; an
//     auto-reply is recorded, with the day the person is back when the
//     text states it (Classification.ReturnDate).
//
// # What this part does
//
// This part is pure functions, with no I/O but the reader they are given:
//
//   - Parse streams one raw message (RFC 5322, MIME RFC 2045–2046) up to a
//     size limit, decodes header words (RFC 2047) and parameters (RFC 2231)
//     in any charset (UTF-8, GBK/GB2312 read as GB18030, GB18030, Big5,
//     ISO-2022-JP, ISO-8859-1 read as Windows-1252, and what
//     github.com/emersion/go-message/charset knows), and extracts the
//     thread identifiers, the human text (HTML turned into text when there
//     is no plain part), the machine-readable parts of delivery status
//     notifications (RFC 3464) and abuse reports (RFC 5965), and the
//     headers of a returned original. Attachment bodies are skipped, never
//     held. Malformed input degrades instead of failing.
//   - Classify decides reply, auto_reply, bounce, complaint, unsubscribe or
//     not_interested, and says which rule decided. Automatic replies are
//     told by RFC 3834 Auto-Submitted and its vendor cousins; bounces by
//     RFC 3464 reports and by the texts of Postfix, Exim, Sendmail, qmail,
//     Exchange, Gmail, Yahoo, QQ, NetEase and Aliyun. A message without any
//     automatic marker is a reply: wrongly treating a person's answer as
//     automatic would send them the next follow-up, which Followup
//     promises never to do.
//   - StripQuoted removes quoted history, signatures and mobile footers, so
//     that unsubscribe and not-interested phrases are looked for only in
//     what the candidate wrote, never in the quoted mail we sent.
//
// testdata/*.eml is a corpus of messages in the formats of the clients and
// mail systems above; the tests pin the verdict on each.
package inbox
