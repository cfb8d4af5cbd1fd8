package inbox

import (
	"net/textproto"
	"testing"
	"time"
)

func TestReturnDate(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	ref := time.Date(2026, 11, 23, 10, 0, 0, 0, cst) // a Monday
	lateDec := time.Date(2026, 12, 28, 9, 0, 0, 0, cst)
	tests := []struct {
		text string
		ref  time.Time
		want string // "" for nil
	}{
		{"I will be back on 2 December.", ref, "2026-12-02"},
		{"I'll be back in the office on Monday, 30 November.", ref, "2026-11-30"},
		{"Out of office until December 3rd, 2026 with limited access.", ref, "2026-12-03"},
		{"I am on leave through Dec 4.", ref, "2026-12-05"},
		{"I'm out of the office from 24 November to 1 December.", ref, "2026-12-02"},
		{"Back on Monday.", ref, "2026-11-30"},
		{"I return 2026-12-07.", ref, "2026-12-07"},
		// Numeric dates: only when a weekday picks exactly one reading.
		{"returning Monday 1/12", ref, ""},  // 1 Dec and 12 Jan are both Tuesdays
		{"returning Tuesday 1/12", ref, ""}, // both readings fit: unsure
		{"back Wednesday 2/12", ref, "2026-12-02"},
		{"back on 1/12", ref, ""},
		{"back on 25/11", ref, "2026-11-25"},
		{"back on 11/25", ref, "2026-11-25"},
		// Chinese.
		{"您好，我正在休假中，12月2日回来后会尽快回复您。", ref, "2026-12-02"},
		{"我将于2026年12月2日返回公司。", ref, "2026-12-02"},
		{"我休假至12月5日，期间回复可能不及时。", ref, "2026-12-06"},
		{"我于11月20日起休假至12月5日。", ref, "2026-12-06"},
		{"12月1日至12月3日请假。", ref, "2026-12-04"},
		{"十二月二日返回办公室。", ref, "2026-12-02"},
		{"12月2日（周三）回来。", ref, "2026-12-02"},
		{"12月2日（周五）回来。", ref, ""}, // 2 December 2026 is a Wednesday
		{"下周一回来。", ref, "2026-11-30"},
		{"我12月2号上班。", ref, "2026-12-02"},
		// Year rules.
		{"I will be back on 5 January.", lateDec, "2027-01-05"},
		{"I will be back on 20 November.", ref, ""},        // stale auto-reply
		{"I will be back on 2 December 2025.", ref, ""},    // in the past
		{"I will be back on 2 December 2028.", ref, ""},    // more than a year away
		{"I will be back on 30 February.", ref, ""},        // no such day
		{"I will be back on 2 December.", time.Time{}, ""}, // no reference date
		{"I will be back on 2 December 2026.", time.Time{}, "2026-12-02"},
		// No return wording, or no date.
		{"Your interview was on 2 December.", ref, ""},
		{"I am currently out of the office.", ref, ""},
		{"", ref, ""},
	}
	for _, tc := range tests {
		got := ""
		if d := returnDate(tc.text, tc.ref); d != nil {
			got = d.Format("2006-01-02")
			if !tc.ref.IsZero() && d.Location() != tc.ref.Location() {
				t.Errorf("%q: location %v, want %v", tc.text, d.Location(), tc.ref.Location())
			}
		}
		if got != tc.want {
			t.Errorf("returnDate(%q, %s) = %q, want %q", tc.text, tc.ref.Format("2006-01-02"), got, tc.want)
		}
	}
}

// parsedWith builds a Parsed as Parse would for a plain message.
func parsedWith(header map[string]string, subject, text string) *Parsed {
	h := textproto.MIMEHeader{}
	for k, v := range header {
		h.Set(k, v)
	}
	return &Parsed{
		Header:      h,
		Subject:     subject,
		Text:        text,
		ContentType: "text/plain",
		Date:        time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
	}
}

func TestClassifyRules(t *testing.T) {
	rules := DefaultRules()
	tests := []struct {
		name    string
		p       *Parsed
		kind    Kind
		reason  string
		rules   *Rules
		wantRep string
	}{
		{"nil", nil, KindReply, "no message", nil, ""},
		{"plain reply", parsedWith(nil, "Re: interview", "Thursday works."), KindReply, "no automatic markers", nil, "Thursday works."},
		{"Auto-Submitted: no is a person", parsedWith(map[string]string{"Auto-Submitted": "no"}, "Re: x", "ok"), KindReply, "", nil, "ok"},
		{"Auto-Submitted with comment", parsedWith(map[string]string{"Auto-Submitted": "auto-replied (vacation)"}, "Re: x", "away"), KindAutoReply, "Auto-Submitted: auto-replied", nil, ""},
		{"X-Autorespond", parsedWith(map[string]string{"X-Autorespond": "1"}, "Re: x", "away"), KindAutoReply, "X-Autorespond", nil, ""},
		{"Precedence: junk", parsedWith(map[string]string{"Precedence": "junk"}, "x", "y"), KindAutoReply, "Precedence: junk", nil, ""},
		{"Precedence: list", parsedWith(map[string]string{"Precedence": "list"}, "x", "y"), KindAutoReply, "Precedence: list", nil, ""},
		{"X-Auto-Response-Suppress alone is not automatic", parsedWith(map[string]string{"X-Auto-Response-Suppress": "All"}, "RE: interview", "See you."), KindReply, "", nil, "See you."},
		{"X-Auto-Response-Suppress with auto subject", parsedWith(map[string]string{"X-Auto-Response-Suppress": "All"}, "自动答复: 面试", "我在休假"), KindAutoReply, "X-Auto-Response-Suppress with subject 自动答复", nil, ""},
		{"subject Out of Office", parsedWith(nil, "Out of Office: interview", "away"), KindAutoReply, "subject Out of Office", nil, ""},
		{"subject Abwesenheitsnotiz", parsedWith(nil, "Abwesenheitsnotiz: Interview", "weg"), KindAutoReply, "Abwesenheitsnotiz", nil, ""},
		{"subject Réponse automatique", parsedWith(nil, "Réponse automatique : Entretien", "absent"), KindAutoReply, "Réponse automatique", nil, ""},
		{"subject 自動回覆", parsedWith(nil, "自動回覆: 面試", "休假"), KindAutoReply, "自動回覆", nil, ""},
		{"subject Auto:", parsedWith(nil, "Auto: Your interview", "away"), KindAutoReply, "subject Auto", nil, ""},
		{"subject 休假 prefix", parsedWith(nil, "休假中", "12月2日回来"), KindAutoReply, "subject 休假", nil, ""},
		{"reply to an out-of-office subject is a person", parsedWith(nil, "Re: Out of office plans for December", "I'll be around."), KindReply, "", nil, "I'll be around."},
		{"休假 inside a reply subject is a person", parsedWith(nil, "Re: 关于休假后入职时间", "12月2日可以入职"), KindReply, "", nil, "12月2日可以入职"},
		{"body says automatic", parsedWith(nil, "Re: interview", "This is an automatic reply. I am away."), KindAutoReply, "text says", nil, ""},
		{"body says 自动回复", parsedWith(nil, "回复：面试", "这是一封自动回复邮件，我将于12月2日返回。"), KindAutoReply, "text says", nil, ""},
		{"a person mentioning their auto-reply is a person", parsedWith(nil, "Re: interview", "Sorry, my auto-reply was still on. Thursday works!"), KindReply, "", nil, "Sorry, my auto-reply was still on. Thursday works!"},
		{"unsubscribe in quote only", parsedWith(nil, "Re: x", "Sounds good.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Wang Min <w@acme.test> wrote:\n> Reply unsubscribe to stop.\n"), KindReply, "", nil, "Sounds good."},
		{"unsubscribe phrase", parsedWith(nil, "Re: x", "Please remove me from your list."), KindUnsubscribe, `"remove me"`, nil, "Please remove me from your list."},
		{"remove mentions is not remove me", parsedWith(nil, "Re: x", "Please remove mentions of my old employer."), KindReply, "", nil, ""},
		{"UNSUBSCRIBE upper case", parsedWith(nil, "Re: x", "UNSUBSCRIBE"), KindUnsubscribe, "", nil, "UNSUBSCRIBE"},
		{"subject unsubscribe after Re:", parsedWith(nil, "Re: 退订", ""), KindUnsubscribe, `subject "退订"`, nil, ""},
		{"subject containing unsubscribe among words is not a command", parsedWith(nil, "Re: how do I unsubscribe from job alerts at my bank", "Thursday works."), KindReply, "", nil, ""},
		{"请勿再联系", parsedWith(nil, "回复：面试", "请勿再联系我，谢谢"), KindUnsubscribe, "请勿再联系", nil, ""},
		{"not interested across a line break", parsedWith(nil, "Re: x", "Thanks, but I'm not\ninterested."), KindNotInterested, `"not interested"`, nil, ""},
		{"curly apostrophe", parsedWith(nil, "Re: x", "I’m no longer looking, sorry."), KindNotInterested, `"no longer looking"`, nil, ""},
		{"not looking forward is not not-looking", parsedWith(nil, "Re: x", "Not looking forward to the commute, but Thursday works."), KindReply, "", nil, ""},
		{"已入职", parsedWith(nil, "回复：面试", "谢谢，我已入职新公司。"), KindNotInterested, "已入职", nil, ""},
		{"unsubscribe wins over not interested", parsedWith(nil, "Re: x", "Not interested, unsubscribe me."), KindUnsubscribe, "", nil, ""},
		{"custom rules", parsedWith(nil, "Re: x", "Bitte keine Mails mehr."), KindUnsubscribe, "keine mails", &Rules{Unsubscribe: []string{"Keine Mails"}}, ""},
		{"empty rules", parsedWith(nil, "Re: x", "unsubscribe"), KindReply, "", &Rules{}, ""},
		{"bounce wording from a person is a reply", parsedWith(nil, "Re: your mail was returned", "My old address does not exist any more, use this one."), KindReply, "", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rules
			if tc.rules != nil {
				r = *tc.rules
			}
			c := Classify(tc.p, r)
			if c.Kind != tc.kind {
				t.Fatalf("Kind = %q (%s), want %q", c.Kind, c.Reason, tc.kind)
			}
			if tc.reason != "" && !containsFold(c.Reason, tc.reason) {
				t.Errorf("Reason = %q, want it to contain %q", c.Reason, tc.reason)
			}
			if tc.wantRep != "" && c.Reply != tc.wantRep {
				t.Errorf("Reply = %q, want %q", c.Reply, tc.wantRep)
			}
			if (c.Kind == KindAutoReply || c.Kind == KindBounce || c.Kind == KindComplaint) && c.Reply != "" {
				t.Errorf("Reply set on %s: %q", c.Kind, c.Reply)
			}
		})
	}
}

func containsFold(s, sub string) bool {
	return len(sub) == 0 || indexFold(s, sub) >= 0
}

func indexFold(s, sub string) int {
	ls, lsub := []rune(s), []rune(sub)
	for i := 0; i+len(lsub) <= len(ls); i++ {
		match := true
		for j := range lsub {
			a, b := ls[i+j], lsub[j]
			if a != b && toLowerRune(a) != toLowerRune(b) {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

func toLowerRune(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

func TestClassifyReports(t *testing.T) {
	base := func(rs ...RecipientStatus) *Parsed {
		p := parsedWith(nil, "Delivery Status Notification", "")
		p.ContentType, p.ReportType = "multipart/report", "delivery-status"
		p.DeliveryStatus = &DeliveryStatus{ReportingMTA: "mx.example.com", Recipients: rs}
		return p
	}
	tests := []struct {
		name   string
		p      *Parsed
		kind   Kind
		reason string
		bounce *Bounce
	}{
		{"failed 5.1.1", base(RecipientStatus{FinalRecipient: "a@example.com", Action: "failed", Status: "5.1.1", DiagnosticCode: "550 5.1.1 no such user"}),
			KindBounce, "RFC 3464", &Bounce{Recipient: "a@example.com", Status: "5.1.1", Diagnostic: "550 5.1.1 no such user", Hard: true}},
		{"failed 4.4.7 is soft", base(RecipientStatus{FinalRecipient: "a@example.com", Action: "failed", Status: "4.4.7", DiagnosticCode: "delivery time expired"}),
			KindBounce, "RFC 3464", &Bounce{Recipient: "a@example.com", Status: "4.4.7", Diagnostic: "delivery time expired", Hard: false}},
		{"original recipient preferred", base(RecipientStatus{FinalRecipient: "fwd@example.net", OriginalRecipient: "a@example.com", Action: "failed", Status: "5.1.1"}),
			KindBounce, "", &Bounce{Recipient: "a@example.com", Status: "5.1.1", Hard: true}},
		{"missing action inferred from 5.x.x", base(RecipientStatus{FinalRecipient: "a@example.com", Status: "5.7.1"}),
			KindBounce, "", &Bounce{Recipient: "a@example.com", Status: "5.7.1", Hard: true}},
		{"status from diagnostic", base(RecipientStatus{FinalRecipient: "a@example.com", Action: "failed", DiagnosticCode: "smtp; 452 4.2.2 over quota"}),
			KindBounce, "", &Bounce{Recipient: "a@example.com", Status: "4.2.2", Diagnostic: "smtp; 452 4.2.2 over quota", Hard: false}},
		{"two failed", base(
			RecipientStatus{FinalRecipient: "a@example.com", Action: "failed", Status: "5.1.1"},
			RecipientStatus{FinalRecipient: "b@example.com", Action: "failed", Status: "5.2.2", DiagnosticCode: "mailbox full"}),
			KindBounce, "", &Bounce{Recipient: "a@example.com", Status: "5.1.1", Hard: true, Others: []Bounce{{Recipient: "b@example.com", Status: "5.2.2", Diagnostic: "mailbox full"}}}},
		{"delayed", base(RecipientStatus{FinalRecipient: "a@example.com", Action: "delayed", Status: "4.4.1"}), KindAutoReply, "delayed DSN", nil},
		{"delivered", base(RecipientStatus{FinalRecipient: "a@example.com", Action: "delivered", Status: "2.0.0"}), KindAutoReply, "success report", nil},
		{"relayed", base(RecipientStatus{FinalRecipient: "a@example.com", Action: "relayed", Status: "2.0.0"}), KindAutoReply, "relayed", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Classify(tc.p, DefaultRules())
			if c.Kind != tc.kind || !containsFold(c.Reason, tc.reason) {
				t.Fatalf("Classify = %s (%s), want %s (%s)", c.Kind, c.Reason, tc.kind, tc.reason)
			}
			if tc.bounce == nil {
				if c.Bounce != nil {
					t.Errorf("Bounce = %+v", *c.Bounce)
				}
				return
			}
			if c.Bounce == nil {
				t.Fatal("Bounce = nil")
			}
			got, want := *c.Bounce, *tc.bounce
			if got.Recipient != want.Recipient || got.Status != want.Status || got.Hard != want.Hard ||
				(want.Diagnostic != "" && got.Diagnostic != want.Diagnostic) || len(got.Others) != len(want.Others) {
				t.Errorf("Bounce = %+v\nwant %+v", got, want)
			}
			for i := range want.Others {
				if got.Others[i].Recipient != want.Others[i].Recipient || got.Others[i].Hard != want.Others[i].Hard {
					t.Errorf("Others[%d] = %+v, want %+v", i, got.Others[i], want.Others[i])
				}
			}
		})
	}
}

func TestClassifyFeedbackTypes(t *testing.T) {
	for _, tc := range []struct {
		feedbackType string
		kind         Kind
	}{{"abuse", KindComplaint}, {"fraud", KindComplaint}, {"other", KindComplaint}, {"not-spam", KindAutoReply}} {
		p := parsedWith(nil, "report", "")
		p.ContentType, p.ReportType = "multipart/report", "feedback-report"
		p.Feedback = &FeedbackReport{FeedbackType: tc.feedbackType}
		if c := Classify(p, DefaultRules()); c.Kind != tc.kind || !containsFold(c.Reason, tc.feedbackType) {
			t.Errorf("Feedback-Type %s: %s (%s), want %s", tc.feedbackType, c.Kind, c.Reason, tc.kind)
		}
	}
}

func TestBounceTextVariants(t *testing.T) {
	msg := func(from, subject, text string, hdr map[string]string) *Parsed {
		p := parsedWith(hdr, subject, text)
		if as := addressList(from, ""); len(as) > 0 {
			p.From = as[0]
		}
		p.To = addressList("wangmin@acme.test", "")
		return p
	}
	tests := []struct {
		name   string
		p      *Parsed
		kind   Kind
		rcpt   string
		status string
		hard   bool
	}{
		{"postfix text without report", msg("MAILER-DAEMON@mx.example.com (Mail Delivery System)", "Undelivered Mail Returned to Sender",
			"This is the mail system at host mx.example.com.\n\n<a@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1\n    <a@example.com>: Recipient address rejected: User unknown (in reply to RCPT TO\n    command)\n", nil),
			KindBounce, "a@example.com", "5.1.1", true},
		{"exim temporary", msg("Mail Delivery System <Mailer-Daemon@mail.example.org>", "Mail delivery failed: returning message to sender",
			"A message that you sent could not be delivered to one or more of its\nrecipients. The following address(es) failed:\n\n  b@example.org\n    452 4.2.2 Mailbox full\n",
			map[string]string{"X-Failed-Recipients": "b@example.org"}),
			KindBounce, "b@example.org", "4.2.2", false},
		{"sendmail transient", msg("Mail Delivery Subsystem <MAILER-DAEMON@example.net>", "Warning: could not send message for past 4 hours",
			"   ----- The following addresses had transient non-fatal errors -----\n<c@example.net>\n\n   ----- Transcript of session follows -----\n<c@example.net>... Deferred: Connection timed out\nWarning: message still undelivered after 4 hours\nWill keep trying until message is 5 days old\n", nil),
			KindAutoReply, "", "", false},
		{"gmail delay", msg("Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Delay)",
			"This is an automatically generated Delivery Status Notification\n\nTHIS IS A WARNING MESSAGE ONLY.\n\nYOU DO NOT NEED TO RESEND YOUR MESSAGE.\n\nDelivery to the following recipient has been delayed:\n\n     d@example.com\n", nil),
			KindAutoReply, "", "", false},
		{"qq mailbox full", msg("MAILER-DAEMON@qq.com", "退信",
			"很抱歉您发送的邮件被退回。\n收件人：e@example.cn\n退信原因：收件人空间不足 (552 Quota exceeded)\n", nil),
			KindBounce, "e@example.cn", "552", false},
		{"no code, permanent wording", msg("postmaster@example.com", "Undeliverable: hi",
			"Delivery has failed to these recipients or groups:\n\nf@example.com\nThe e-mail address you entered couldn't be found.\nThis address does not exist.", nil),
			KindBounce, "f@example.com", "", true},
		{"IP address is not a status", msg("MAILER-DAEMON@example.org", "failure notice",
			"I'm afraid I wasn't able to deliver your message to the following addresses.\n\n<g@example.org>:\nConnected to 192.5.4.3 but sender was rejected.\n", nil),
			KindBounce, "g@example.org", "", false},
		{"recipient from the original when the text names none", func() *Parsed {
			p := msg("MAILER-DAEMON@example.org", "Returned mail", "Your message could not be delivered.\n", nil)
			p.Original = &OriginalHeaders{MessageID: "x@acme.test", To: addressList("h@example.org", "")}
			return p
		}(), KindBounce, "h@example.org", "", false},
		{"a person's reply quoting a bounce subject is a reply", msg("Li Lei <li.lei@example.com>", "Re: Undelivered Mail Returned to Sender",
			"I got this bounce, my old address does not exist any more. Use this one please.", nil),
			KindReply, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Classify(tc.p, DefaultRules())
			if c.Kind != tc.kind {
				t.Fatalf("Kind = %s (%s), want %s", c.Kind, c.Reason, tc.kind)
			}
			if tc.kind != KindBounce {
				return
			}
			b := c.Bounce
			if b == nil || b.Recipient != tc.rcpt || b.Status != tc.status || b.Hard != tc.hard {
				t.Errorf("Bounce = %+v, want %s %s hard=%v", b, tc.rcpt, tc.status, tc.hard)
			}
		})
	}
}

func TestFindStatus(t *testing.T) {
	tests := []struct{ in, want string }{
		{"said: 550 5.1.1 <a@b>: unknown", "5.1.1"},
		{"550-5.1.1 The email account", "5.1.1"},
		{"#550 5.1.10 RESOLVER.ADR.RecipientNotFound", "5.1.10"},
		{"host 192.5.1.1 said: 554 rejected", "554"},
		{"Postfix 3.7.2 said 450 try later", "450"},
		{"Status: 4.2.2", "4.2.2"},
		{"at 10:00 on 11/23/2026", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got, _ := findStatus(tc.in); got != tc.want {
			t.Errorf("findStatus(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
