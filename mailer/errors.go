package mailer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Verdict says what a failed send means for the message.
type Verdict int

const (
	// Transient: not delivered; retry this message later (4xx, a broken
	// connection before the end of DATA).
	Transient Verdict = iota + 1
	// Permanent: the server refused this message for good (5xx for the
	// recipient or the content); never retry it.
	Permanent
	// Unknown: the message was fully transmitted but no reply to the end of
	// DATA came back (timeout, dropped connection): it may have been
	// delivered. Never resend without a person deciding.
	Unknown
	// MailboxDown: the mailbox cannot send at all right now (connection
	// refused, TLS or login failure, sender refused); nothing was
	// transmitted and the message is not at fault.
	MailboxDown
	// Rejected: the server refused this message for good, but not because
	// of the address: its content or a policy (5xx after DATA, 5.7.x at
	// RCPT). Retrying the same message is pointless; the address is fine.
	Rejected
)

func (v Verdict) String() string {
	switch v {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Unknown:
		return "unknown"
	case MailboxDown:
		return "mailbox-down"
	case Rejected:
		return "rejected"
	}
	return "verdict?"
}

// Error is a failed send with its verdict; errors.As it.
type Error struct {
	Verdict  Verdict
	Stage    string // "connect", "MAIL FROM", "RCPT TO", "DATA", "end of DATA"…
	Code     int    // SMTP reply code, 0 when none came
	Enhanced string // RFC 3463 enhanced status code, when given
	Err      error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s failure at %s: %v", e.Verdict, e.Stage, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func byCode(code int, none Verdict) Verdict {
	switch {
	case code >= 500:
		return Permanent
	case code >= 400:
		return Transient
	}
	return none
}

// contentVerdict: once the recipient is accepted, a 5xx is about the
// message, not the address.
func contentVerdict(v Verdict) Verdict {
	if v == Permanent {
		return Rejected
	}
	return v
}

// classify turns a go-mail error from Send into a verdict.
func classify(err error) *Error {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return &Error{Verdict: MailboxDown, Stage: "connect", Err: err}
		}
		return &Error{Verdict: Transient, Stage: "send", Err: err}
	}
	e := &Error{Code: se.ErrorCode(), Enhanced: se.EnhancedStatusCode(), Err: err}
	switch se.Reason {
	case gomail.ErrConnCheck:
		e.Stage, e.Verdict = "connection check", MailboxDown
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		e.Stage, e.Verdict = "preparing", Permanent
	case gomail.ErrSMTPMailFrom:
		// The sender is refused for every message: a mailbox problem.
		e.Stage = "MAIL FROM"
		e.Verdict = byCode(e.Code, MailboxDown)
		if e.Verdict == Permanent {
			e.Verdict = MailboxDown
		}
	case gomail.ErrSMTPRcptTo:
		e.Stage, e.Verdict = "RCPT TO", byCode(e.Code, MailboxDown)
		// RFC 3463: 5.1.x and 5.2.x are about the mailbox itself; 5.7.x
		// is policy (relay denied, blocked sender) and says nothing about
		// whether the address exists.
		if e.Verdict == Permanent && strings.HasPrefix(e.Enhanced, "5.7.") {
			e.Verdict = Rejected
		}
	case gomail.ErrSMTPData:
		e.Stage, e.Verdict = "DATA", contentVerdict(byCode(e.Code, MailboxDown))
	case gomail.ErrWriteContent:
		// The terminating "." never reached the server: not delivered.
		e.Stage, e.Verdict = "message content", Transient
	case gomail.ErrSMTPDataClose:
		// RFC 5321 §4.1.1.4: the reply to the end of DATA is the server's
		// acceptance. Without a reply we cannot know.
		e.Stage, e.Verdict = "end of DATA", contentVerdict(byCode(e.Code, Unknown))
	case gomail.ErrSMTPReset:
		return nil // delivered; only the RSET after it failed
	default:
		e.Stage, e.Verdict = "send", Transient
	}
	return e
}
