package main

import (
	"strings"
	"testing"
	"time"

	"followup/inbox"
)

func TestDecodeDemoMessage(t *testing.T) {
	for _, tc := range []struct {
		name              string
		raw               string
		subject, from, to string
		text, html        string // contained
		links             []string
		problem           bool
	}{
		{
			name: "multipart/alternative, quoted-printable and base64, encoded words",
			raw: "From: =?UTF-8?B?546L5pWP?= <WangMin@followup.test>\r\nTo: \"Li Lei\" <li.lei@followup.test>\r\n" +
				"Subject: =?UTF-8?Q?=E9=9D=A2=E8=AF=95=E5=8F=8D=E9=A6=88?= and more\r\nDate: Tue, 24 Nov 2026 09:28:00 +0800\r\n" +
				"Message-ID: <a.1@followup.test>\r\nReferences: <a.0@followup.test>\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
				"=E6=82=A8=E5=A5=BD see https://example.com/a?x=1.\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				"PHA+PGEgaHJlZj0iaHR0cDovL2xvY2FsaG9zdC9zL3Q/c2NvcmU9OSI+OTwvYT4gPGEgaHJlZj0iamF2YXNjcmlwdDphbGVydCgxKSI+eDwvYT48L3A+\r\n--b--\r\n",
			subject: "面试反馈 and more", from: "王敏 <WangMin@followup.test>", to: "Li Lei <li.lei@followup.test>",
			text: "您好 see https://example.com/a?x=1.", html: `<a href="http://localhost/s/t?score=9">9</a>`,
			links: []string{"http://localhost/s/t?score=9 9", "https://example.com/a?x=1 "},
		},
		{
			name:    "GBK text, no MIME-Version",
			raw:     "From: a@example.com\nTo: b@example.com\nSubject: =?GBK?B?xOO6ww==?=\nContent-Type: text/plain; charset=gbk\nContent-Transfer-Encoding: base64\n\nxOO6ww==\n",
			subject: "你好", from: "a@example.com", to: "b@example.com", text: "你好",
		},
		{
			name: "an attachment is not shown", raw: "From: a@example.com\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nhello\n--x\nContent-Type: text/plain\nContent-Disposition: attachment; filename=a.txt\n\nsecret\n--x--\n",
			from: "a@example.com", text: "hello",
		},
		{name: "not a message", raw: "\x00\x01 nothing", problem: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeDemoMessage([]byte(tc.raw))
			if m.Subject != tc.subject || m.From != tc.from || m.To != tc.to {
				t.Errorf("subject %q from %q to %q", m.Subject, m.From, m.To)
			}
			if !strings.Contains(m.Text, tc.text) || !strings.Contains(m.HTML, tc.html) || strings.Contains(m.Text, "secret") {
				t.Errorf("text %q\nhtml %q", m.Text, m.HTML)
			}
			var links []string
			for _, l := range m.Links {
				links = append(links, l.URL+" "+l.Text)
			}
			if strings.Join(links, "\n") != strings.Join(tc.links, "\n") {
				t.Errorf("links %q, want %q", links, tc.links)
			}
			if (m.Problem != "") != tc.problem {
				t.Errorf("problem %q", m.Problem)
			}
		})
	}
	m := decodeDemoMessage([]byte("From: a@example.com\r\nMessage-ID: <x@y>\r\nReferences: <r1@y> <r2@y>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nhi\r\n"))
	if m.MessageID != "x@y" || strings.Join(m.References, " ") != "r1@y r2@y" || !m.Date.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) || m.Text != "hi\n" {
		t.Errorf("%+v", m)
	}
}

// The replies the demo builds are read by the real inbox parser and
// classifier as what they claim to be, threaded to the message.
func TestDemoRepliesAreClassified(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	orig := demoMessage{
		FromAddr: "wangmin@followup.test", FromName: "王敏 Wang Min", From: "王敏 Wang Min <wangmin@followup.test>",
		ToAddr: "li.lei@followup.test", ToName: "李雷", MessageID: "m2@followup.test", References: []string{"m1@followup.test"},
		Subject: "高级后端工程师面试反馈", Text: "李雷，您好：\n谢谢您参加面试。\n如需退订请回复退订。", Date: now.Add(-time.Hour),
	}
	for _, tc := range []struct {
		kind   demoReplyKind
		zh     bool
		want   inbox.Kind
		back   bool // a return date is found
		prefix string
	}{
		{replyPerson, true, inbox.KindReply, false, "Re: "},
		{replyPerson, false, inbox.KindReply, false, "Re: "},
		{replyOutOfOffice, true, inbox.KindAutoReply, true, "自动回复："},
		{replyOutOfOffice, false, inbox.KindAutoReply, true, "Automatic reply: "},
		{replyUnsubscribe, true, inbox.KindUnsubscribe, false, "Re: "},
		{replyUnsubscribe, false, inbox.KindUnsubscribe, false, "Re: "},
	} {
		text := demoReplyText(tc.kind, tc.zh, orig.ToName, now)
		raw, err := buildDemoReply(orig, tc.kind, text, tc.zh, now)
		if err != nil {
			t.Fatal(err)
		}
		p, err := inbox.Parse(strings.NewReader(raw), 0)
		if err != nil {
			t.Fatal(err)
		}
		cl := inbox.Classify(p, inbox.DefaultRules())
		if cl.Kind != tc.want || (cl.ReturnDate != nil) != tc.back {
			t.Errorf("%s zh=%v: classified %s (%s), return date %v\n%s", tc.kind, tc.zh, cl.Kind, cl.Reason, cl.ReturnDate, raw)
		}
		if tc.back && !cl.ReturnDate.After(now.AddDate(0, 0, 6)) {
			t.Errorf("%s zh=%v: return date %v", tc.kind, tc.zh, cl.ReturnDate)
		}
		if p.From.Address != "li.lei@followup.test" || p.From.Name != "李雷" || len(p.To) != 1 || p.To[0].Address != "wangmin@followup.test" ||
			p.Subject != tc.prefix+orig.Subject || strings.Join(p.InReplyTo, " ") != "m2@followup.test" ||
			strings.Join(p.References, " ") != "m1@followup.test m2@followup.test" || !p.Date.Equal(now) {
			t.Errorf("%s zh=%v: headers %+v", tc.kind, tc.zh, p)
		}
		if !strings.Contains(p.Text, strings.SplitN(text, "\n", 2)[0]) {
			t.Errorf("%s zh=%v: text %q", tc.kind, tc.zh, p.Text)
		}
		// The quoted original is history, not the candidate's words: the
		// "退订" in the original's footer does not make a reply an
		// unsubscribe request.
		if tc.kind == replyPerson && strings.Contains(cl.Reply, "退订") {
			t.Errorf("the quoted original is in the reply: %q", cl.Reply)
		}
	}
	if _, err := buildDemoReply(demoMessage{ToAddr: "a@b"}, replyPerson, "x", false, now); err == nil {
		t.Error("a reply to a message without a Message-ID")
	}
}

func TestDemoSpeedText(t *testing.T) {
	for _, tc := range []struct {
		speed  float64
		zh, en string
	}{
		{3600, "现实 1 秒 = 模拟 1 小时", "one real second is 1 simulated hour"},
		{86400, "现实 1 秒 = 模拟 1 天", "one real second is 1 simulated day"},
		{36000, "现实 1 秒 = 模拟 10 小时", "one real second is 10 simulated hours"},
		{120, "现实 1 秒 = 模拟 2 分钟", "one real second is 2 simulated minutes"},
		{1.5, "现实 1 秒 = 模拟 1.5s", "one real second is 1.5s simulated"},
	} {
		if zh, en := speedText(tc.speed, "zh"), speedText(tc.speed, "en"); zh != tc.zh || en != tc.en {
			t.Errorf("%v: %q, %q", tc.speed, zh, en)
		}
	}
}

func TestWithBaseTarget(t *testing.T) {
	for in, want := range map[string]string{
		`<!DOCTYPE html><html><HEAD lang="x"><title>t</title>`: `<!DOCTYPE html><html><HEAD lang="x"><base target="_blank"><title>t</title>`,
		`<p>no head</p>`:     `<base target="_blank"><p>no head</p>`,
		`<header>x</header>`: `<base target="_blank"><header>x</header>`,
	} {
		if got := withBaseTarget(in); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
}
