package webhooks_test

import (
	"context"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"followup/inbox"
	"followup/webhooks"
)

func TestSentMessageIsDeliveredSigned(t *testing.T) {
	h := newHarness(t)
	rcv := newReceiver(t, h.clock.Now)
	ep := rcv.endpoint()
	d := h.dispatcher(ep)
	h.fanout(d) // first run: starts after the newest event
	e := h.enroll("li.lei@example.com", "Li Lei")
	if res := h.send(2 * time.Minute); res.Sent != 1 {
		t.Fatalf("sent %d, want 1", res.Sent)
	}
	if n := h.fanout(d); n != 2 { // enrolled, sent
		t.Fatalf("fanned out %d events, want 2", n)
	}
	if n := h.deliver(d, ep); n != 1 {
		t.Fatalf("attempted %d deliveries, want 1 (enrolled is not announced)", n)
	}
	got := rcv.payloads()
	if len(rcv.rejected) > 0 || len(got) != 1 {
		t.Fatalf("receiver got %d payloads, rejected %v", len(got), rcv.rejected)
	}
	p := got[0]
	if p.Type != webhooks.MessageSent || p.Data.Email != "li.lei@example.com" || p.Data.Name != "Li Lei" ||
		p.Data.EnrollmentUID != e.UID || p.Data.Sequence != "interview" || p.Data.Mailbox != "recruiter" ||
		p.Data.Step != 1 || p.Data.Subject != "Your Engineer interview" || !strings.HasPrefix(p.Data.MessageID, e.UID+".0@") {
		t.Errorf("payload: %+v", p)
	}
	if _, err := strconv.ParseInt(p.ID, 10, 64); err != nil || !p.CreatedAt.Equal(h.clock.Now()) {
		t.Errorf("payload id %q created_at %s", p.ID, p.CreatedAt)
	}
	hd := rcv.headers[0]
	ds := h.deliveries("")
	if hd.Get(webhooks.EventHeader) != webhooks.MessageSent || hd.Get(webhooks.DeliveryHeader) != strconv.FormatInt(ds[0].ID, 10) || hd.Get("Content-Type") != "application/json" {
		t.Errorf("headers: %v", hd)
	}
	if len(ds) != 1 || ds[0].Status != webhooks.Delivered || ds[0].Attempts != 1 || ds[0].LastStatusCode != 200 || ds[0].DeliveredAt == nil {
		t.Errorf("delivery log: %+v", ds)
	}
	// Delivered once: nothing more to do, and the timeline shows the
	// message once (no "sent" event line).
	if n := h.deliver(d, ep); n != 0 {
		t.Errorf("a delivered delivery was attempted again (%d)", n)
	}
	tl, err := h.db.Timeline(context.Background(), "li.lei@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range tl.Events {
		if ev.Kind == "sent" {
			t.Errorf("the timeline shows a sent event besides the message: %+v", ev)
		}
	}
}

func TestRetryAfterServerErrorThenSuccess(t *testing.T) {
	h := newHarness(t)
	rcv := newReceiver(t, h.clock.Now, 500, 503)
	ep := rcv.endpoint()
	var outcomes []string
	d := h.dispatcher(ep)
	d.Observe = func(o string) { outcomes = append(outcomes, o) }
	h.fanout(d)
	h.enroll("a@example.com", "A")
	h.send(2 * time.Minute)
	h.fanout(d)

	h.deliver(d, ep)
	ds := h.deliveries("")
	if len(ds) != 1 || ds[0].Status != webhooks.Pending || ds[0].Attempts != 1 || ds[0].LastStatusCode != 500 || ds[0].LastError != "HTTP 500" {
		t.Fatalf("after a 500: %+v", ds)
	}
	if want := h.clock.Now().Add(30 * time.Second); ds[0].NextAttemptAt == nil || !ds[0].NextAttemptAt.Equal(want) {
		t.Fatalf("next attempt %v, want %v (30 s)", ds[0].NextAttemptAt, want)
	}
	if n := h.deliver(d, ep); n != 0 {
		t.Fatalf("retried before its time (%d)", n)
	}
	h.clock.Advance(30 * time.Second)
	h.deliver(d, ep) // 503: the wait doubles
	ds = h.deliveries("")
	if want := h.clock.Now().Add(time.Minute); ds[0].Attempts != 2 || !ds[0].NextAttemptAt.Equal(want) {
		t.Fatalf("after a 503: %+v, want next %v", ds[0], want)
	}
	h.clock.Advance(time.Minute)
	h.deliver(d, ep)
	ds = h.deliveries("")
	if ds[0].Status != webhooks.Delivered || ds[0].Attempts != 3 || len(rcv.payloads()) != 1 {
		t.Fatalf("after success: %+v, %d payloads", ds[0], len(rcv.payloads()))
	}
	if strings.Join(outcomes, ",") != "retry,retry,delivered" {
		t.Errorf("outcomes %v", outcomes)
	}
}

// deadURL is an address where nothing listens.
func deadURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/hook"
}

func TestReceiverDownBacksOffWithoutHoldingUpSending(t *testing.T) {
	h := newHarness(t)
	dead := webhooks.Endpoint{URL: deadURL(t), Secret: testSecret, Timeout: time.Second}
	rcv := newReceiver(t, h.clock.Now)
	live := rcv.endpoint()
	d := h.dispatcher(dead, live)
	h.fanout(d)
	for _, e := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		h.enroll(e, "")
	}
	if res := h.send(2 * time.Minute); res.Sent != 3 {
		t.Fatalf("sent %d, want 3", res.Sent)
	}
	h.fanout(d)
	var waits []time.Duration
	for range 20 {
		if h.deliver(d, dead) == 0 {
			break
		}
		ds, _ := h.db.ListDeliveries(context.Background(), webhooks.Filter{Endpoint: dead.URL, Limit: 1})
		if ds[0].Status != webhooks.Pending {
			break
		}
		wait := ds[0].NextAttemptAt.Sub(h.clock.Now())
		waits = append(waits, wait)
		// Sending goes on while the receiver is down.
		h.clock.Advance(wait)
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute}
	for i, w := range want {
		if i >= len(waits) || waits[i] != w {
			t.Fatalf("waits %v, want them to start %v", waits, want)
		}
	}
	if last := waits[len(waits)-1]; last != 4*time.Hour {
		t.Errorf("waits %v should end at the 4 h cap", waits)
	}
	failed, _ := h.db.ListDeliveries(context.Background(), webhooks.Filter{Endpoint: dead.URL, Status: webhooks.Failed})
	if len(failed) != 3 || !strings.HasPrefix(failed[0].LastError, "gave up after") {
		t.Fatalf("after a day every delivery to the dead endpoint should fail: %+v", failed)
	}
	// The live endpoint got everything, unaffected.
	h.deliver(d, live)
	if n := len(rcv.payloads()); n != 3 {
		t.Errorf("the live endpoint got %d payloads, want 3", n)
	}
	// Sending was never blocked: the second steps go out on time.
	if res := h.send(24 * time.Hour); res.Sent != 3 {
		t.Errorf("second steps: sent %d, want 3", res.Sent)
	}
}

func TestRestartResumesFromCursorAndPendingRows(t *testing.T) {
	h := newHarness(t)
	rcv := newReceiver(t, h.clock.Now, 500)
	ep := rcv.endpoint()
	d := h.dispatcher(ep)
	h.fanout(d)
	h.enroll("a@example.com", "")
	h.send(2 * time.Minute)
	h.fanout(d)
	h.deliver(d, ep) // 500: pending
	h.enroll("b@example.com", "")
	h.send(2 * time.Minute) // sent, not yet fanned out

	h.db.Close()
	h.open() // a restart: a new store, a new dispatcher
	d = h.dispatcher(ep)
	if n := h.fanout(d); n != 2 { // b's enrolled and sent, not a's again
		t.Fatalf("after the restart %d events were read, want 2", n)
	}
	h.clock.Advance(time.Minute)
	h.deliver(d, ep)
	got := rcv.payloads()
	if len(got) != 2 || got[0].Data.Email == got[1].Data.Email {
		t.Fatalf("after the restart the receiver got %+v", got)
	}
	if ds := h.deliveries(webhooks.Delivered); len(ds) != 2 {
		t.Errorf("delivered %d, want 2", len(ds))
	}
}

func TestEventsMapToTypesAndFilters(t *testing.T) {
	h := newHarness(t)
	all := newReceiver(t, h.clock.Now)
	replies := newReceiver(t, h.clock.Now)
	epAll, epReplies := all.endpoint(), replies.endpoint()
	epReplies.Events = []string{webhooks.ReplyReceived}
	d := h.dispatcher(epAll, epReplies)
	ctx := context.Background()
	h.fanout(d)
	a := h.enroll("a@example.com", "A")
	h.enroll("b@example.com", "B")
	h.send(2 * time.Minute)
	// a replies (read from the inbox); b unsubscribes with the link.
	in := inbox.Inbound{Checkpoint: inbox.Checkpoint{Mailbox: "recruiter", UIDValidity: 1, LastUID: 1}, UID: 1,
		MessageID: "<r1@example.com>", From: "a@example.com", Subject: "Re: Your Engineer interview", ReceivedAt: h.clock.Now(),
		Kind: "reply", Reason: "no automatic markers", Text: "Thanks!",
		Target: inbox.Target{CandidateID: a.CandidateID, Email: a.Email, EnrollmentID: a.ID, Sequence: "interview", MatchedBy: "thread"},
		Action: inbox.Action{Stop: true, Why: "replied: Thanks!"}}
	if _, err := h.db.RecordBatch(ctx, []inbox.Inbound{in}, in.Checkpoint); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Suppress(ctx, []string{"b@example.com"}, "unsubscribe page", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.fanout(d)
	h.deliver(d, epAll)
	h.deliver(d, epReplies)

	var types []string
	byType := map[string]webhooks.Payload{}
	for _, p := range all.payloads() {
		types = append(types, p.Type+":"+p.Data.Email)
		byType[p.Type+":"+p.Data.Email] = p
	}
	sort.Strings(types) // delivered concurrently: in any order
	want := "enrollment.finished:a@example.com enrollment.finished:b@example.com message.sent:a@example.com message.sent:b@example.com reply.received:a@example.com unsubscribed:b@example.com"
	if strings.Join(types, " ") != want {
		t.Fatalf("types\n got %s\nwant %s", strings.Join(types, " "), want)
	}
	if p := byType["reply.received:a@example.com"]; p.Data.Kind != "reply" || p.Data.Subject != "Re: Your Engineer interview" || p.Data.EnrollmentUID != a.UID {
		t.Errorf("reply payload %+v", p.Data)
	}
	if p := byType["enrollment.finished:a@example.com"]; p.Data.Kind != "stopped" || p.Data.Reason != "replied: Thanks!" {
		t.Errorf("stopped payload %+v", p.Data)
	}
	if p := byType["unsubscribed:b@example.com"]; p.Data.Kind != "suppressed" || p.Data.Reason != "unsubscribe page" {
		t.Errorf("unsubscribed payload %+v", p.Data)
	}
	if got := replies.payloads(); len(got) != 1 || got[0].Type != webhooks.ReplyReceived {
		t.Errorf("the replies-only endpoint got %+v", got)
	}
	// Ids are event ids: the same event has the same id at every endpoint.
	if replies.payloads()[0].ID != byType["reply.received:a@example.com"].ID {
		t.Error("the same event has different ids at two endpoints")
	}
}

func TestGoneDisablesTheEndpoint(t *testing.T) {
	h := newHarness(t)
	rcv := newReceiver(t, h.clock.Now, http.StatusGone)
	ep := rcv.endpoint()
	d := h.dispatcher(ep)
	h.fanout(d)
	h.enroll("a@example.com", "")
	h.enroll("b@example.com", "")
	h.send(2 * time.Minute)
	h.fanout(d)
	d.Concurrency = 1
	h.deliver(d, ep)
	if ds := h.deliveries(webhooks.Failed); len(ds) != 1 || ds[0].LastStatusCode != 410 {
		t.Fatalf("after 410: %+v", ds)
	}
	if n := h.deliver(d, ep); n != 0 {
		t.Errorf("a disabled endpoint was sent %d more", n)
	}
	h.enroll("c@example.com", "")
	h.send(2 * time.Minute)
	h.fanout(d)
	if ds := h.deliveries(""); len(ds) != 2 {
		t.Errorf("new events were queued for a disabled endpoint: %d deliveries", len(ds))
	}
	if was, err := h.db.EnableEndpoint(context.Background(), ep.URL); err != nil || !was {
		t.Fatal(was, err)
	}
	if n := h.deliver(d, ep); n != 1 {
		t.Errorf("after enabling, %d attempted, want the pending one", n)
	}
}

func TestManualRetrySendsAgain(t *testing.T) {
	h := newHarness(t)
	rcv := newReceiver(t, h.clock.Now)
	ep := rcv.endpoint()
	d := h.dispatcher(ep)
	h.fanout(d)
	h.enroll("a@example.com", "")
	h.send(2 * time.Minute)
	h.fanout(d)
	h.deliver(d, ep)
	ds := h.deliveries("")
	if _, err := h.db.RetryDelivery(context.Background(), ds[0].ID, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.deliver(d, ep)
	got := rcv.payloads()
	if len(got) != 2 || got[0].ID != got[1].ID {
		t.Errorf("a retried delivery should arrive again with the same id: %+v", got)
	}
	if _, err := h.db.RetryDelivery(context.Background(), 999, h.clock.Now()); err == nil {
		t.Error("retrying an unknown delivery succeeded")
	}
}

func TestForgetErasesDeliveries(t *testing.T) {
	h := newHarness(t)
	ep := webhooks.Endpoint{URL: deadURL(t), Secret: testSecret}
	d := h.dispatcher(ep)
	h.fanout(d)
	h.enroll("a@example.com", "A")
	h.send(2 * time.Minute)
	h.fanout(d)
	if len(h.deliveries("")) != 1 {
		t.Fatal("no delivery queued")
	}
	if _, err := h.db.Forget(context.Background(), "a@example.com", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if ds := h.deliveries(""); len(ds) != 0 {
		t.Errorf("forget left %d webhook deliveries holding the address", len(ds))
	}
}
