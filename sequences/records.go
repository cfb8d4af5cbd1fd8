package sequences

import (
	"context"
	"time"

	"followup/mailer"
)

// MessageStatus is where one (enrollment, step) send stands.
type MessageStatus string

// Message statuses.
const (
	MsgSending  MessageStatus = "sending"  // claimed; being delivered now
	MsgSent     MessageStatus = "sent"     // the SMTP server accepted it
	MsgDeferred MessageStatus = "deferred" // a transient failure; retried later
	MsgFailed   MessageStatus = "failed"   // permanently refused
	MsgUnknown  MessageStatus = "unknown"  // maybe delivered: the recruiter decides
	MsgSkipped  MessageStatus = "skipped"  // deliberately not sent (a dated step whose day passed)
	MsgReview   MessageStatus = "review"   // rendered, waiting for the recruiter's approval
)

// Message is the send record of one step.
type Message struct {
	ID           int64         `db:"id" json:"-"`
	EnrollmentID int64         `db:"enrollment_id" json:"enrollment_id"`
	Step         int           `db:"step" json:"step"`
	MessageID    string        `db:"message_id" json:"message_id"`
	Status       MessageStatus `db:"status" json:"status"`
	Attempts     int           `db:"attempts" json:"attempts"`
	From         string        `db:"from_addr" json:"from"`
	To           string        `db:"to_addr" json:"to"`
	Subject      string        `db:"subject" json:"subject"`
	InReplyTo    string        `db:"in_reply_to" json:"in_reply_to,omitempty"`
	Error        string        `db:"error" json:"error,omitempty"`
	Body         string        `db:"body" json:"body,omitempty"` // the text part as sent
	ClaimedAt    *time.Time    `db:"claimed_at" json:"claimed_at,omitempty"`
	SentAt       *time.Time    `db:"sent_at" json:"sent_at,omitempty"`
	CreatedAt    time.Time     `db:"created_at" json:"created_at"`
}

// Event is one entry of a candidate's timeline besides the messages.
type Event struct {
	ID           int64     `db:"id" json:"-"`
	EnrollmentID *int64    `db:"enrollment_id" json:"enrollment_id,omitempty"`
	Kind         string    `db:"kind" json:"kind"`
	Detail       string    `db:"detail" json:"detail,omitempty"`
	CreatedAt    time.Time `db:"created_at" json:"at"`
}

// Event kinds.
const (
	EvEnrolled        = "enrolled"
	EvPaused          = "paused"
	EvResumed         = "resumed"
	EvStopped         = "stopped"
	EvFinished        = "finished"
	EvSendFailed      = "send_failed"
	EvDeliveryUnknown = "delivery_unknown"
	EvRenderFailed    = "render_failed"
	EvSkipped         = "skipped"
	EvReview          = "review"
	EvApproved        = "approved"
	// EvSent is written with each message recorded as sent (the webhook
	// outbox reads it; timelines show the message itself instead). Its
	// detail is the Message-ID.
	EvSent = "sent"
	// EvSuppressed is written when an address is added to the suppression
	// list by a link or by hand (followup suppress add); the detail says how.
	EvSuppressed = "suppressed"
)

// Claim is a due step taken by one sender: until it is recorded as sent,
// deferred, failed or unknown, nobody else sends it.
type Claim struct {
	Enrollment Enrollment
	Step       int
	MessageRow int64
	MessageID  string
	Attempts   int // earlier attempts that reached the server
	// A review step approved by the recruiter, possibly with their own
	// subject and Markdown body for this candidate.
	Approved                      bool
	OverrideSubject, OverrideBody string
}

// SentRecord is one message sent to a candidate (for the frequency cap).
type SentRecord struct {
	MessageID string    `db:"message_id"`
	At        time.Time `db:"sent_at"`
}

// ThreadMessage is an earlier message of an enrollment's thread.
type ThreadMessage struct {
	MessageID string `db:"message_id"`
	Subject   string `db:"subject"`
}

// Sent describes a delivered message for the send record.
type Sent struct {
	At        time.Time
	From, To  string
	Subject   string
	InReplyTo string
	Template  string // the template (variant) it was rendered from
	Body      string // the text part as sent
	Tracked   bool   // it carried an open pixel and/or tracked links
	// NextDue is when the following step is due; nil when this was the last.
	NextDue *time.Time
}

// OutcomeKind is what happened to a claim.
type OutcomeKind int

// Outcome kinds.
const (
	OutSent     OutcomeKind = iota + 1 // accepted by the server
	OutDeferred                        // back on the due list at Until
	OutFailed                          // permanently refused: enrollment failed, address undeliverable
	OutHeld                            // enrollment paused for a person; message recorded with Status
	OutSkipped                         // not sent (a dated step whose day passed); the enrollment moves on (Sent.NextDue)
	OutReview                          // a review step rendered and waiting for the recruiter's approval (Draft)
)

// Outcome is the result of handling one claim, for the store to record.
type Outcome struct {
	Claim Claim
	Kind  OutcomeKind
	At    time.Time
	// OutSent
	Sent Sent
	// OutDeferred: CountAttempt is false when the message never reached the
	// server (mailbox down, shutting down).
	Until        time.Time
	CountAttempt bool
	// OutHeld: the message's status (MsgUnknown, MsgDeferred) and the
	// timeline event.
	Status MessageStatus
	Event  string
	Reason string
	// OutReview: the rendered text the recruiter reviews.
	Draft string

	msg *mailer.Message // the message that was sent, for OnSent
}

// Store is what the scheduler needs from the database.
type Store interface {
	// ClaimDue takes up to limit enrollments due at now, marks their step
	// "sending" and takes them off the due list, all in one transaction.
	ClaimDue(ctx context.Context, now time.Time, limit int, msgID func(Enrollment) string) ([]Claim, error)
	// Settle records outcomes in one transaction (group commit): the send
	// record of each accepted message, with its enrollment advanced.
	Settle(ctx context.Context, outcomes []Outcome) error
	// RecoverStale turns claims older than before (a crash mid-send) into
	// "unknown" and holds their enrollments.
	RecoverStale(ctx context.Context, before, now time.Time) (int, error)
	// NextDue is the earliest due time of an active enrollment.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// Thread lists the sent messages of an enrollment before step.
	Thread(ctx context.Context, enrollmentID int64, step int) ([]ThreadMessage, error)
	// Version loads a pinned sequence version.
	Version(ctx context.Context, id int64) (*Sequence, error)
	// Status reads an enrollment's current status.
	Status(ctx context.Context, enrollmentID int64) (Status, error)
	// SentTo lists the messages that went to a candidate after since,
	// oldest first.
	SentTo(ctx context.Context, candidateID int64, since time.Time) ([]SentRecord, error)
	// SentFrom counts the messages a sender address sent since `since`.
	SentFrom(ctx context.Context, from string, since time.Time) (int, error)
}
