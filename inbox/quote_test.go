package inbox

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStripQuoted(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text untouched", "Hi,\n\nsee you.\n", "Hi,\n\nsee you."},
		{"crlf and trailing spaces", "Hi   \r\n\r\nok\t\r\n\r\n", "Hi\n\nok"},
		{"gmail one line", "Yes.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Wang Min <wangmin@acme.test> wrote:\n> question\n", "Yes."},
		{"gmail wrapped over three lines", "Yes.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Wang Min\n(Talent Acquisition) <\nwangmin@acme.test> wrote:\n\n> question\n", "Yes."},
		{"attribution without quote marks cuts", "Yes.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Wang Min <wangmin@acme.test> wrote:\nunquoted history\n", "Yes."},
		{"outlook en", "OK\n\n-----Original Message-----\nFrom: Wang Min\nSent: Monday\n", "OK"},
		{"outlook header block with rule", "OK\n\n________________________________\nFrom: Wang Min <wangmin@acme.test>\nSent: Monday, November 23, 2026 10:00 AM\nTo: Li Lei\nSubject: Interview\n\nhistory", "OK"},
		{"outlook bold header block (Gmail rendering)", "OK\n\n*From:* Wang Min <wangmin@acme.test>\n*Sent:* Monday, November 23, 2026 10:00 AM\n*To:* Li Lei\n*Subject:* Interview\n", "OK"},
		{"outlook zh full-width colons", "好的\n\n发件人： 王敏 <wangmin@acme.test>\n发送时间： 2026年11月23日 10:00\n收件人： 李雷\n主题： 面试反馈\n\n历史", "好的"},
		{"qq mail", "收到\n\n------------------ 原始邮件 ------------------\n发件人: \"王敏\"<wangmin@acme.test>;\n", "收到"},
		{"foxmail en", "OK\n\n------------------ Original ------------------\nFrom:  \"王敏\"<wangmin@acme.test>;\n", "OK"},
		{"netease separator", "可以\n\n-----原始邮件-----\n发件人：王敏\n", "可以"},
		{"netease attribution with quotes", "可以\n\n在 2026-11-23 10:00:00，\"王敏\" <wangmin@acme.test> 写道：\n>李雷你好\n", "可以"},
		{"gmail zh", "好的\n\n王敏 <wangmin@acme.test> 于2026年11月23日周一 10:00写道：\n\n> 李雷你好\n", "好的"},
		{"apple mail zh, quoted attribution", "好的\n\n发自我的iPhone\n\n> 在 2026年11月23日，10:00，王敏 <wangmin@acme.test> 写道：\n> \n> 李雷你好\n", "好的"},
		{"apple mail en", "Sure.\n\nSent from my iPhone\n\n> On Nov 23, 2026, at 10:00, Wang Min <wangmin@acme.test> wrote:\n> \n> Hi\n", "Sure."},
		{"big5 outlook", "好\n\n寄件者: 王敏 <wangmin@acme.test>\n寄件日期: 2026年11月23日 上午 10:00\n收件者: 李雷\n主旨: 面試通知\n", "好"},
		{"japanese outlook", "了解です。\n\n差出人: Wang Min <wangmin@acme.test>\n送信日時: 2026年11月23日 10:00\n宛先: Li Lei\n件名: 面接\n", "了解です。"},
		{"german", "Passt.\n\nAm 23.11.2026 um 10:00 schrieb Wang Min <wangmin@acme.test>:\n> Hallo\n", "Passt."},
		{"forwarded", "FYI\n\n---------- Forwarded message ---------\nFrom: x\n", "FYI"},
		{"signature", "Thanks!\n\n-- \nLi Lei\nBackend Engineer\n", "Thanks!"},
		{"signature without trailing space", "Thanks!\n--\nLi Lei\n", "Thanks!"},
		{"long text after -- is not a signature", "a\n--\n" + strings.Repeat("line\n", 20), "a\n--\n" + strings.TrimSuffix(strings.Repeat("line\n", 20), "\n")},
		{"mobile footers", "OK\n\nSent from my iPhone", "OK"},
		{"get outlook", "OK\n\nGet Outlook for iOS\n", "OK"},
		{"netease master", "可以\n\n发自网易邮箱大师\n", "可以"},
		{"huawei", "好的\n发自我的华为手机", "好的"},
		{"footer words inside text are kept", "I wrote this on the train, sent from my iPhone in a hurry.\nThanks", "I wrote this on the train, sent from my iPhone in a hurry.\nThanks"},
		{"interleaved answers kept", "> Can you do Thursday?\nYes.\n\n> And Friday?\n\nNo.\n", "Yes.\n\nNo."},
		{"bottom posting", "On 11/23/26 10:00 AM, Wang Min wrote:\n> Can you do Thursday?\n\nYes, I can.\n", "Yes, I can."},
		{"wrapped quote continuation dropped", "Yes.\n\n> Reply \"unsubscribe\" if you'd rather not hear from us, we will remove\nyou from all future mailings right away.\n", "Yes."},
		{"short quoted line then answer kept", "> Thursday?\nYes\n", "Yes"},
		{"blank lines inside own text kept", "Line one.\n\n\nLine two.\n", "Line one.\n\n\nLine two."},
		{"no double blank where quote was cut", "A\n\n> q\n\nB", "A\n\nB"},
		{"on ... wrote in running text is kept", "On Monday I wrote a long reply, did you get it?\nThanks", "On Monday I wrote a long reply, did you get it?\nThanks"},
		{"only history", "> all quoted\n> text", ""},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := StripQuoted(tc.in); got != tc.want {
				t.Errorf("StripQuoted(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzStripQuoted(f *testing.F) {
	for _, s := range []string{
		"Yes.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Wang Min <wangmin@acme.test> wrote:\n> q\n",
		"好的\n\n发件人： 王敏\n发送时间： 2026年11月23日\n收件人： 李雷\n主题： 面试\n",
		"> a\nb\n\n> c\n-- \nsig",
		"OK\n\n________________________________\nFrom: a\nSent: b\nTo: c\n",
		"x\r\ny\r\n\r\n发自我的iPhone",
		"On\nOn\nOn wrote:",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := StripQuoted(in)
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of valid input: %q", out)
		}
		if len(out) > len(in) {
			t.Fatalf("output longer than input: %q -> %q", in, out)
		}
		if strings.Contains(out, "\r") {
			t.Fatalf("carriage return in output: %q", out)
		}
		for _, l := range strings.Split(out, "\n") {
			if isQuotedLine(l) {
				t.Fatalf("quoted line %q left in %q", l, out)
			}
		}
		if out != strings.TrimSpace(out) && strings.TrimRightFunc(out, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' }) != out {
			t.Fatalf("trailing white space left: %q", out)
		}
	})
}
