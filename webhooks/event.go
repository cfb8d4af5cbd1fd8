// Package webhooks tells other systems (an ATS, a CRM, a chat bot) what
// happened, as signed JSON POSTs. The database's events table is the
// outbox: every action already writes its event in the same transaction, so
// the Dispatcher only reads events after a stored cursor, writes one
// delivery per endpoint and event, and sends those with retries. Nothing is
// lost across restarts, and a slow or dead receiver never delays sending
// mail or the other endpoints.
package webhooks

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Event types, the "type" of a payload and the Followup-Event header.
const (
	MessageSent        = "message.sent"
	MessageFailed      = "message.failed"
	ReplyReceived      = "reply.received"
	BounceReceived     = "bounce.received"
	Unsubscribed       = "unsubscribed"
	SurveyCompleted    = "survey.completed"
	EnrollmentFinished = "enrollment.finished"
)

// Types lists every event type, for config validation and docs.
var Types = []string{MessageSent, MessageFailed, ReplyReceived, BounceReceived, Unsubscribed, SurveyCompleted, EnrollmentFinished}

// TypeOf maps a timeline event kind (the events table) to the webhook type
// it is announced as, or "" for kinds that are not announced (enrolled,
// paused, resumed, auto_reply, delivery_unknown, review, ...).
func TypeOf(kind string) string {
	switch kind {
	case "sent":
		return MessageSent
	case "send_failed":
		return MessageFailed
	case "reply", "not_interested":
		return ReplyReceived
	case "bounce":
		return BounceReceived
	case "unsubscribe", "complaint", "suppressed":
		return Unsubscribed
	case "survey":
		return SurveyCompleted
	case "finished", "stopped":
		return EnrollmentFinished
	}
	return ""
}

// Event is one row of the events table, with what its payload tells about
// the candidate, the enrollment and the message (filled by the store).
type Event struct {
	ID          int64     `db:"id"`
	Kind        string    `db:"kind"`
	Detail      string    `db:"detail"`
	CreatedAt   time.Time `db:"created_at"`
	CandidateID int64     `db:"candidate_id"`
	Email       string    `db:"email"`
	Name        string    `db:"name"`
	// The enrollment, when the event has one.
	EnrollmentUID    string `db:"enrollment_uid"`
	Sequence         string `db:"sequence"`
	Mailbox          string `db:"mailbox"`
	EnrollmentStatus string `db:"enrollment_status"`
	NextStep         int    `db:"next_step"` // 0-based
	// For "sent": the message (Step is 0-based; -1 when unknown).
	Step      int    `db:"step"`
	Subject   string `db:"subject"`
	MessageID string `db:"message_id"`
	// For inbound kinds: the subject of the candidate's message.
	InboundSubject string `db:"inbound_subject"`
}

// Payload is the JSON body of a delivery.
type Payload struct {
	// ID is the event's id: the same for every endpoint and every attempt,
	// so a receiver drops duplicates by it.
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      Data      `json:"data"`
}

// Data is what happened, to whom. Empty fields are left out.
type Data struct {
	Email         string `json:"email"`
	Name          string `json:"name,omitempty"`
	EnrollmentUID string `json:"enrollment_uid,omitempty"`
	Sequence      string `json:"sequence,omitempty"`
	Mailbox       string `json:"mailbox,omitempty"`
	Step          int    `json:"step,omitempty"` // 1-based
	Subject       string `json:"subject,omitempty"`
	MessageID     string `json:"message_id,omitempty"`
	// Kind refines the type: reply or not_interested (reply.received);
	// unsubscribe, complaint or suppressed (unsubscribed); finished or
	// stopped (enrollment.finished).
	Kind   string `json:"kind,omitempty"`
	Reason string `json:"reason,omitempty"`
	Survey string `json:"survey,omitempty"`
}

// NewPayload builds the payload of an event, or reports false for an event
// kind that is not announced.
func NewPayload(ev Event) (Payload, bool) {
	typ := TypeOf(ev.Kind)
	if typ == "" {
		return Payload{}, false
	}
	d := Data{Email: ev.Email, Name: ev.Name, EnrollmentUID: ev.EnrollmentUID, Sequence: ev.Sequence, Mailbox: ev.Mailbox}
	switch typ {
	case MessageSent:
		d.Subject, d.MessageID = ev.Subject, ev.MessageID
		if ev.Step >= 0 {
			d.Step = ev.Step + 1
		}
	case MessageFailed:
		d.Reason = ev.Detail
		if ev.EnrollmentUID != "" {
			d.Step = ev.NextStep + 1 // a failed step does not advance the enrollment
		}
	case ReplyReceived, BounceReceived:
		d.Kind, d.Reason, d.Subject = ev.Kind, ev.Detail, ev.InboundSubject
	case Unsubscribed:
		d.Kind, d.Reason, d.Subject = ev.Kind, ev.Detail, ev.InboundSubject
	case SurveyCompleted:
		d.Survey = strings.TrimSuffix(ev.Detail, " answered")
	case EnrollmentFinished:
		d.Kind = ev.Kind
		if ev.Kind == "stopped" {
			// The detail is "SEQUENCE: why" (or just SEQUENCE).
			d.Reason = strings.TrimPrefix(strings.TrimPrefix(ev.Detail, ev.Sequence), ": ")
		}
	}
	return Payload{ID: strconv.FormatInt(ev.ID, 10), Type: typ, CreatedAt: ev.CreatedAt.UTC(), Data: d}, true
}

// Body is the payload as sent.
func (p Payload) Body() []byte {
	b, _ := json.Marshal(p) // strings and numbers only: cannot fail
	return b
}
