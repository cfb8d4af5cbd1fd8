package inbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// corpusCase is the verdict pinned for one testdata/*.eml fixture.
type corpusCase struct {
	file   string
	kind   Kind
	reason string // substring of Classification.Reason

	// bounces
	rcpt   string
	status string
	hard   bool

	returnDate string // "2006-01-02", "" for nil

	reply      string // exact stripped reply for human messages
	replyCheck bool   // compare reply even when empty

	inReplyTo  string // first In-Reply-To
	references []string
	original   string // Original.MessageID
	subject    string
	from       string
}

var corpus = []corpusCase{
	// ---- human replies ----
	{file: "reply_outlook_en.eml", kind: KindReply, reason: "no automatic markers",
		reply:     "Hi Wang Min,\n\nThanks for the quick feedback. Thursday at 10:00 works for me.\n\nI'll bring the design doc we talked about.\n\nBest regards,\nLi Lei",
		inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test", references: []string{"6ztx4p2lq3m5zq7a.0@acme.test"},
		subject: "RE: Your interview at Acme - next steps", from: "li.lei@example.com"},
	{file: "reply_outlook_zh.eml", kind: KindReply,
		reply:     "王敏您好，\n\n谢谢反馈！周四上午10点可以，我会准时到。\n\n另外，我的前同事陈喆也对贵司的职位感兴趣，方便的话我把他的简历转给您。\n\n李雷",
		inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test", subject: "答复: 面试反馈 – 高级后端工程师", from: "li.lei@example.com"},
	{file: "reply_gmail.eml", kind: KindReply,
		reply:     "Thanks Wang Min!\n\nThursday works. One question: is the system design round remote or\non-site?",
		inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test", subject: "Re: Your interview at Acme - next steps"},
	{file: "reply_apple_mail.eml", kind: KindReply,
		reply:     "好的，周四上午见。\n\n另外想确认一下需要带纸质简历吗？",
		inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test", subject: "Re: 面试反馈 – 高级后端工程师"},
	{file: "reply_qq_gbk.eml", kind: KindReply,
		reply:     "王老师好，\n\n收到，谢谢！下周一之前我把作品集发给您。",
		inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test", subject: "回复：面试反馈 – 高级后端工程师", from: "li.lei@example.com"},
	{file: "reply_foxmail_gb18030.eml", kind: KindReply,
		reply:     "王老师：\n\n您好！周四上午十点我可以参加终面。\n\n附言：我名字里的“𠮷”字在有些系统里显示不出来，\n如果简历上看到乱码，请以“𠮷（上土下口）”为准。\n\n\n谢谢！",
		inReplyTo: "6ztx4p2lq3m5zq7a.2@acme.test", references: []string{"6ztx4p2lq3m5zq7a.0@acme.test", "6ztx4p2lq3m5zq7a.2@acme.test"},
		subject: "回复: 面试反馈 – 高级后端工程师", from: "jiming@example.com"},
	{file: "reply_163_gbk.eml", kind: KindReply,
		reply:     "您好，\n\n周四可以。\n\n谢谢！\n李雷",
		inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test", subject: "Re:面试反馈 – 高级后端工程师"},
	{file: "reply_big5.eml", kind: KindReply,
		reply:     "王小姐您好：\n\n謝謝通知，我星期四上午十點可以參加面試。\n\n李雷 敬上",
		inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test", subject: "回覆: 面試通知"},
	{file: "reply_iso2022jp.eml", kind: KindReply,
		reply:     "王様\n\nご連絡ありがとうございます。\n木曜日の10時で問題ありません。\n\nよろしくお願いいたします。\n李雷",
		inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test", subject: "RE: 最終面接のご案内"},
	{file: "reply_latin1.eml", kind: KindReply,
		reply:     "Bonjour Wang Min,\n\nJeudi à 10h, c’est parfait pour moi. Merci beaucoup !\n\nCordialement,\nRenée Dupré",
		inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test", subject: "Re: Entretien final", from: "renee.dupre@example.fr"},
	{file: "reply_html_only.eml", kind: KindReply,
		reply:     "Hi Wang Min,\n\nSounds good — see you Thursday. My updated portfolio is here (https://portfolio.example.com/li-lei).\n\nLi",
		inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test"},
	{file: "reply_quoted_footer.eml", kind: KindReply,
		reply: "好的，周四上午10点可以。", inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test"},
	{file: "reply_interleaved_flowed.eml", kind: KindReply,
		reply:     "Yes, Thursday at 10:00 is fine. I will come to the front desk at 9:50.\n\nI'll send it tonight.",
		inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test"},
	{file: "reply_rfc2231_attachment.eml", kind: KindReply, reply: "作品集见附件。", subject: "Re: 作品集"},
	{file: "unsubscribe_zh.eml", kind: KindUnsubscribe, reason: `unsubscribe phrase "退订"`,
		reply: "退订，谢谢。", inReplyTo: "6ztx4p2lq3m5zq7a.1@acme.test",
		references: []string{"6ztx4p2lq3m5zq7a.0@acme.test", "6ztx4p2lq3m5zq7a.1@acme.test"}},
	{file: "unsubscribe_mailto.eml", kind: KindUnsubscribe, reason: `subject "unsubscribe"`, reply: "", replyCheck: true},
	{file: "not_interested_en.eml", kind: KindNotInterested, reason: `"not looking"`,
		reply: "Hi Wang Min,\n\nI'm not looking anymore, thanks. I accepted a role last week.\n\nAll the best,\nLi"},
	{file: "not_interested_zh.eml", kind: KindNotInterested, reason: `"暂时不考虑"`,
		reply: "王老师，谢谢您的邀请，不过我暂时不考虑机会了。\n\n祝好"},

	// ---- automatic replies ----
	{file: "auto_outlook_exchange.eml", kind: KindAutoReply, reason: "Auto-Submitted: auto-generated", returnDate: "2026-11-30",
		inReplyTo: "6ztx4p2lq3m5zq7a.0@acme.test"},
	{file: "auto_gmail_vacation.eml", kind: KindAutoReply, reason: "Auto-Submitted: auto-replied", returnDate: "2026-12-02"},
	{file: "auto_qq.eml", kind: KindAutoReply, reason: "subject 自动回复", returnDate: "2026-12-02",
		subject: "自动回复: 面试反馈 – 高级后端工程师"},
	{file: "auto_163.eml", kind: KindAutoReply, reason: "X-Autoreply: yes", returnDate: "2026-12-06"},
	{file: "auto_precedence_bulk.eml", kind: KindAutoReply, reason: "Precedence: bulk"},
	{file: "dsn_delayed.eml", kind: KindAutoReply, reason: "delayed DSN", original: "6ztx4p2lq3m5zq7a.0@acme.test"},
	{file: "mdn_read_receipt.eml", kind: KindAutoReply, reason: "read receipt"},

	// ---- bounces ----
	{file: "bounce_postfix_dsn.eml", kind: KindBounce, reason: "RFC 3464 report",
		rcpt: "li.lei@example.com", status: "5.1.1", hard: true, original: "6ztx4p2lq3m5zq7a.0@acme.test"},
	{file: "bounce_exim.eml", kind: KindBounce, reason: "Exim bounce text",
		rcpt: "li.lei@example.org", status: "5.1.1", hard: true, original: "6ztx4p2lq3m5zq7a.1@acme.test",
		references: []string{"6ztx4p2lq3m5zq7a.1@acme.test"}},
	{file: "bounce_sendmail.eml", kind: KindBounce, reason: "Sendmail bounce text",
		rcpt: "zhang.wei@example.net", status: "5.1.1", hard: true, original: "6ztx4p2lq3m5zq7b.0@acme.test"},
	{file: "bounce_qmail.eml", kind: KindBounce, reason: "qmail bounce text",
		rcpt: "chen.jing@example.org", status: "5.1.1", hard: true, original: "6ztx4p2lq3m5zq7c.0@acme.test"},
	{file: "bounce_o365.eml", kind: KindBounce, reason: "RFC 3464 report",
		rcpt: "li.lei@example.com", status: "5.1.10", hard: true, original: "6ztx4p2lq3m5zq7a.0@acme.test"},
	{file: "bounce_exchange_text.eml", kind: KindBounce, reason: "Exchange NDR",
		rcpt: "li.lei@example.com", status: "5.1.1", hard: true},
	{file: "bounce_gmail.eml", kind: KindBounce, reason: "RFC 3464 report",
		rcpt: "li.lei@example.com", status: "5.1.1", hard: true, original: "6ztx4p2lq3m5zq7a.0@acme.test"},
	{file: "bounce_yahoo.eml", kind: KindBounce, reason: "Yahoo bounce text",
		rcpt: "liu.yang@example.com", status: "554", hard: true, original: "6ztx4p2lq3m5zq7d.0@acme.test"},
	{file: "bounce_qq.eml", kind: KindBounce, reason: "QQ/Tencent 退信",
		rcpt: "zhao.lei@example.cn", status: "550", hard: true},
	{file: "bounce_163.eml", kind: KindBounce, reason: "NetEase 退信",
		rcpt: "sun.li@example.com", status: "550", hard: true, subject: "系统退信"},
	{file: "bounce_aliyun.eml", kind: KindBounce, reason: "Aliyun 退信",
		rcpt: "zhou.min@example.cn", status: "5.1.1", hard: true},
	{file: "bounce_soft_mailbox_full.eml", kind: KindBounce, reason: "RFC 3464 report",
		rcpt: "li.lei@example.com", status: "5.2.2", hard: false, original: "6ztx4p2lq3m5zq7a.0@acme.test"},

	// ---- complaints ----
	{file: "complaint_arf.eml", kind: KindComplaint, reason: "RFC 5965", original: "6ztx4p2lq3m5zq7a.1@acme.test"},
}

func parseFixture(t testing.TB, name string) *Parsed {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := Parse(f, 0)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return p
}

func TestCorpus(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range corpus {
		seen[tc.file] = true
		t.Run(strings.TrimSuffix(tc.file, ".eml"), func(t *testing.T) {
			p := parseFixture(t, tc.file)
			c := Classify(p, DefaultRules())
			if c.Kind != tc.kind {
				t.Fatalf("Kind = %q (%s), want %q", c.Kind, c.Reason, tc.kind)
			}
			if !strings.Contains(c.Reason, tc.reason) {
				t.Errorf("Reason = %q, want it to contain %q", c.Reason, tc.reason)
			}
			if tc.kind == KindBounce {
				if c.Bounce == nil {
					t.Fatal("Bounce = nil")
				}
				if c.Bounce.Recipient != tc.rcpt || c.Bounce.Status != tc.status || c.Bounce.Hard != tc.hard {
					t.Errorf("Bounce = %+v, want recipient %q status %q hard %v", *c.Bounce, tc.rcpt, tc.status, tc.hard)
				}
				if c.Bounce.Diagnostic == "" {
					t.Error("Bounce.Diagnostic is empty")
				}
			} else if c.Bounce != nil {
				t.Errorf("Bounce = %+v on a %s", *c.Bounce, c.Kind)
			}
			got := ""
			if c.ReturnDate != nil {
				got = c.ReturnDate.Format("2006-01-02")
			}
			if got != tc.returnDate {
				t.Errorf("ReturnDate = %q, want %q", got, tc.returnDate)
			}
			if tc.reply != "" || tc.replyCheck {
				if c.Reply != tc.reply {
					t.Errorf("Reply =\n%s\n--- want ---\n%s", c.Reply, tc.reply)
				}
			}
			if tc.inReplyTo != "" && (len(p.InReplyTo) == 0 || p.InReplyTo[0] != tc.inReplyTo) {
				t.Errorf("InReplyTo = %q, want %q", p.InReplyTo, tc.inReplyTo)
			}
			if tc.references != nil && strings.Join(p.References, " ") != strings.Join(tc.references, " ") {
				t.Errorf("References = %q, want %q", p.References, tc.references)
			}
			if tc.original != "" && (p.Original == nil || p.Original.MessageID != tc.original) {
				t.Errorf("Original = %+v, want Message-ID %q", p.Original, tc.original)
			}
			if tc.subject != "" && p.Subject != tc.subject {
				t.Errorf("Subject = %q, want %q", p.Subject, tc.subject)
			}
			if tc.from != "" && p.From.Address != tc.from {
				t.Errorf("From = %q, want %q", p.From.Address, tc.from)
			}
			if p.MessageID == "" {
				t.Error("MessageID is empty")
			}
			if p.Date.IsZero() {
				t.Error("Date is zero")
			}
			assertValidUTF8(t, p)
		})
	}
	files, _ := filepath.Glob("testdata/*.eml")
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("fixture %s has no expectation in corpus", f)
		}
	}
}

func assertValidUTF8(t testing.TB, p *Parsed) {
	t.Helper()
	for name, s := range map[string]string{
		"Text": p.Text, "Subject": p.Subject, "From.Name": p.From.Name, "MessageID": p.MessageID,
	} {
		if !utf8.ValidString(s) {
			t.Errorf("%s is not valid UTF-8: %q", name, s)
		}
	}
	for k, vs := range p.Header {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				t.Errorf("Header[%s] is not valid UTF-8: %q", k, v)
			}
		}
	}
}

// TestCorpusDetails pins what the table does not: DSN and ARF fields,
// decoded names, attachments.
func TestCorpusDetails(t *testing.T) {
	p := parseFixture(t, "bounce_postfix_dsn.eml")
	if p.ContentType != "multipart/report" || p.ReportType != "delivery-status" {
		t.Errorf("ContentType, ReportType = %q, %q", p.ContentType, p.ReportType)
	}
	ds := p.DeliveryStatus
	if ds == nil || ds.ReportingMTA != "mx.acme.test" || len(ds.Recipients) != 1 {
		t.Fatalf("DeliveryStatus = %+v", ds)
	}
	want := RecipientStatus{
		FinalRecipient: "li.lei@example.com", OriginalRecipient: "li.lei@example.com", Action: "failed", Status: "5.1.1",
		DiagnosticCode: "550 5.1.1 <li.lei@example.com>: Recipient address rejected: User unknown in virtual mailbox table",
	}
	if ds.Recipients[0] != want {
		t.Errorf("Recipients[0] = %+v\nwant %+v", ds.Recipients[0], want)
	}
	if !strings.Contains(p.Text, "This is the mail system at host mx.acme.test.") || strings.Contains(p.Text, "Reporting-MTA") {
		t.Errorf("Text should be the notification only:\n%s", p.Text)
	}
	if p.Original.Subject != "Your interview at Acme - next steps" || p.Original.To[0].Address != "li.lei@example.com" {
		t.Errorf("Original = %+v", p.Original)
	}

	p = parseFixture(t, "complaint_arf.eml")
	fb := p.Feedback
	if fb == nil || fb.FeedbackType != "abuse" || fb.OriginalMailFrom != "wangmin@acme.test" ||
		len(fb.OriginalRcptTo) != 1 || fb.OriginalRcptTo[0] != "li.lei@example.com" || fb.SourceIP != "203.0.113.10" ||
		fb.ReportingMTA != "mail.example.com" || fb.ArrivalDate.IsZero() {
		t.Errorf("Feedback = %+v", fb)
	}

	p = parseFixture(t, "reply_qq_gbk.eml")
	if p.From.Name != "李雷" || len(p.To) != 1 || p.To[0].Name != "王敏" || p.To[0].Address != "wangmin@acme.test" {
		t.Errorf("From, To = %+v, %+v", p.From, p.To)
	}
	if p.Header.Get("X-Mailer") != "QQMail 2.x" {
		t.Errorf("Header[X-Mailer] = %q", p.Header.Get("X-Mailer"))
	}

	p = parseFixture(t, "reply_foxmail_gb18030.eml")
	if p.From.Name != "𠮷明" {
		t.Errorf("From.Name = %q, want the four-byte GB18030 character decoded", p.From.Name)
	}

	p = parseFixture(t, "reply_rfc2231_attachment.eml")
	if len(p.Attachments) != 1 || p.Attachments[0].Filename != "李雷简历.pdf" || p.Attachments[0].ContentType != "application/pdf" {
		t.Errorf("Attachments = %+v, want the RFC 2231 GBK filename decoded", p.Attachments)
	}

	p = parseFixture(t, "reply_latin1.eml")
	if p.From.Name != "Renée Dupré" {
		t.Errorf("From.Name = %q", p.From.Name)
	}

	p = parseFixture(t, "reply_html_only.eml")
	if strings.Contains(p.Text, "tracking") || strings.Contains(p.Text, "margin") || strings.Contains(p.Text, "Re: interview") {
		t.Errorf("script, style or title leaked into Text:\n%s", p.Text)
	}
	if !strings.Contains(p.Text, "> Could you do Thursday at 10:00?") {
		t.Errorf("blockquote not rendered as quote:\n%s", p.Text)
	}

	p = parseFixture(t, "bounce_gmail.eml")
	if len(p.Attachments) != 1 || p.Attachments[0].Filename != "icon.png" {
		t.Errorf("Attachments = %+v", p.Attachments)
	}
	if strings.Contains(p.Text, "Thank you for coming in on Friday") {
		t.Error("the returned original's body leaked into Text")
	}
}
