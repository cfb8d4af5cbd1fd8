package inbox

import (
	"context"
	"time"
)

// Checkpoint is how far a mailbox folder has been read: messages with a UID
// above LastUID under the same UIDVALIDITY are new (RFC 9051 §2.3.1.1).
type Checkpoint struct {
	Mailbox     string
	UIDValidity uint32
	LastUID     uint32
}

// Target is the candidate, and when known the enrollment, an inbound
// message is about.
type Target struct {
	CandidateID  int64
	Email        string
	EnrollmentID int64 // 0: matched by address with no enrollment that wrote to them
	VersionID    int64 // the enrollment's pinned sequence version
	Sequence     string
	MatchedBy    string // "thread", "address", "bounce"
}

// Action is what recording a message does besides logging it.
type Action struct {
	// Stop ends every live enrollment of the candidate; Pause pauses the
	// active ones instead (a sequence's on_reply: pause).
	Stop, Pause bool
	// Suppress adds the address to the suppression list: nothing is ever
	// sent to it again (unsubscribe, complaint).
	Suppress bool
	// Undeliverable marks the address dead (hard bounce).
	Undeliverable bool
	// SoftBounce counts a temporary delivery failure; the third makes the
	// address undeliverable.
	SoftBounce bool
	// PostponeUntil moves the next step of active enrollments to after the
	// candidate's stated return date (out of office).
	PostponeUntil *time.Time
	// Why is the reason shown on stopped or paused enrollments.
	Why string
}

// Inbound is one classified message to record.
type Inbound struct {
	Checkpoint           // the message's UID becomes LastUID
	UID        uint32    // the message's UID
	MessageID  string    // Message-ID, or a stand-in when the message has none
	From       string    // sender address
	Subject    string    //
	ReceivedAt time.Time // the server's internal date
	Kind       string    // reply, auto_reply, bounce, complaint, unsubscribe, not_interested
	Reason     string    // which rule classified it
	Text       string    // the candidate's words, quoted history removed (capped)
	Target     Target
	Action     Action
}

// SoftBounceLimit is how many soft bounces make an address undeliverable.
const SoftBounceLimit = 3

// Store is what the inbox needs from the database.
type Store interface {
	// Checkpoint returns how far a mailbox has been read.
	Checkpoint(ctx context.Context, mailbox string) (Checkpoint, bool, error)
	// SaveCheckpoint advances the checkpoint past messages that are not
	// about any candidate.
	SaveCheckpoint(ctx context.Context, cp Checkpoint) error
	// MatchMessageIDs finds the enrollment that sent one of ids.
	MatchMessageIDs(ctx context.Context, ids []string) (Target, bool, error)
	// MatchAddress finds a candidate by address, with the enrollment that
	// last wrote to them.
	MatchAddress(ctx context.Context, email string) (Target, bool, error)
	// OldestEnrollment is when the oldest live enrollment started: a first
	// scan of a mailbox reads nothing older.
	OldestEnrollment(ctx context.Context) (time.Time, bool, error)
	// RecordBatch logs messages about candidates, applies their actions
	// and advances the checkpoint to cp, in one transaction. A message
	// already recorded (same mailbox and Message-ID) changes nothing; its
	// entry in the result is false.
	RecordBatch(ctx context.Context, ins []Inbound, cp Checkpoint) ([]bool, error)
}
