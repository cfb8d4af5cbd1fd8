package inbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// maxText caps the reply text kept in the timeline.
const maxText = 20000

// Decide matches a classified message to a candidate and says what it does.
// Matching order (documented in docs/ARCHITECTURE.md):
//  1. threading headers: In-Reply-To and References (and, for bounces and
//     complaints, the returned original's Message-ID) against the
//     Message-IDs Followup sent;
//  2. the address: the sender of a reply, the failed recipient of a bounce.
//
// A candidate in several sequences is one person: a reply acts on every
// live enrollment of theirs and is logged on the enrollment it answered (by
// thread) or on the one that last changed (by address).
func Decide(ctx context.Context, st Store, p *Parsed, cl Classification, in Inbound, own []string, onReply func(context.Context, int64) string) (Inbound, bool, error) {
	in.MessageID = p.MessageID
	if in.MessageID == "" {
		in.MessageID = standIn(p)
	}
	in.From = strings.ToLower(p.From.Address)
	in.Subject = p.Subject
	in.Kind = string(cl.Kind)
	in.Reason = cl.Reason
	in.Text = capText(cl.Reply)
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = p.Date
	}
	for _, o := range own {
		if strings.EqualFold(o, in.From) {
			return in, false, nil // the recruiter's own mail
		}
	}
	ids := append(append([]string{}, p.References...), p.InReplyTo...)
	isReport := cl.Kind == KindBounce || cl.Kind == KindComplaint
	if isReport && p.Original != nil && p.Original.MessageID != "" {
		ids = append(ids, p.Original.MessageID)
	}
	t, ok, err := st.MatchMessageIDs(ctx, ids)
	if err != nil {
		return in, false, err
	}
	if !ok {
		for _, addr := range candidateAddresses(p, cl) {
			if t, ok, err = st.MatchAddress(ctx, addr); err != nil || ok {
				break
			}
		}
		if err != nil {
			return in, false, err
		}
	}
	if !ok {
		return in, false, nil // not about anyone we write to
	}
	if isReport {
		t.MatchedBy = "bounce:" + t.MatchedBy
	}
	in.Target = t
	in.Action = action(ctx, cl, t, onReply)
	return in, true, nil
}

// candidateAddresses are the addresses a message may be about when its
// threading headers match nothing.
func candidateAddresses(p *Parsed, cl Classification) []string {
	switch cl.Kind {
	case KindBounce:
		if cl.Bounce != nil && cl.Bounce.Recipient != "" {
			return []string{strings.ToLower(cl.Bounce.Recipient)}
		}
		return nil // never the sender of a bounce (MAILER-DAEMON)
	case KindComplaint:
		var out []string
		if p.Feedback != nil {
			out = append(out, lowerAll(p.Feedback.OriginalRcptTo)...)
		}
		if p.Original != nil {
			for _, a := range p.Original.To {
				out = append(out, strings.ToLower(a.Address))
			}
		}
		return out
	}
	return []string{strings.ToLower(p.From.Address)}
}

func action(ctx context.Context, cl Classification, t Target, onReply func(context.Context, int64) string) Action {
	switch cl.Kind {
	case KindBounce:
		b := cl.Bounce
		if b == nil {
			b = &Bounce{}
		}
		why := strings.TrimSpace(fmt.Sprintf("bounced %s %s", b.Status, firstLine(b.Diagnostic)))
		if b.Hard {
			return Action{Undeliverable: true, Stop: true, Why: "hard " + why}
		}
		return Action{SoftBounce: true, Why: "soft " + why}
	case KindComplaint:
		return Action{Suppress: true, Stop: true, Why: "marked our email as spam"}
	case KindUnsubscribe:
		return Action{Suppress: true, Stop: true, Why: "asked to unsubscribe: " + snippet(cl.Reply)}
	case KindNotInterested:
		return Action{Stop: true, Why: "not interested: " + snippet(cl.Reply)}
	case KindAutoReply:
		a := Action{}
		if cl.ReturnDate != nil {
			// The day after the stated return, so the follow-up is not the
			// first thing in a full inbox.
			until := cl.ReturnDate.Add(24 * time.Hour)
			a.PostponeUntil = &until
		}
		return a
	}
	why := "replied: " + snippet(cl.Reply)
	if onReply != nil && t.VersionID != 0 && onReply(ctx, t.VersionID) == "pause" {
		return Action{Pause: true, Why: why}
	}
	return Action{Stop: true, Why: why}
}

// standIn names a message that has no Message-ID, stably across rescans.
func standIn(p *Parsed) string {
	h := sha256.Sum256([]byte(p.From.Address + "\x00" + p.Subject + "\x00" + p.Date.UTC().Format(time.RFC3339) + "\x00" + p.Text))
	return "no-message-id." + hex.EncodeToString(h[:12]) + "@followup.invalid"
}

func snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:80]) + "…"
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return snippet(s)
}

func capText(s string) string {
	if len(s) <= maxText {
		return s
	}
	cut := maxText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "\n[…]"
}

func lowerAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.ToLower(s)
	}
	return out
}
