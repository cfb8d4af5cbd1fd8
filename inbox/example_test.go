package inbox_test

import (
	"fmt"
	"strings"

	"followup/inbox"
)

func ExampleClassify() {
	raw := "From: =?gb18030?B?wO7A1w==?= <li.lei@example.com>\r\n" +
		"To: wangmin@acme.test\r\n" +
		"Subject: =?utf-8?B?5Zue5aSN77ya6Z2i6K+V5Y+N6aaI?=\r\n" +
		"Date: Tue, 24 Nov 2026 09:12:00 +0800\r\n" +
		"Message-ID: <reply-1@example.com>\r\n" +
		"In-Reply-To: <6ztx4p2lq3m5zq7a.0@acme.test>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"谢谢，不过我暂时不考虑机会了。\r\n" +
		"\r\n" +
		"------------------ 原始邮件 ------------------\r\n" +
		"发件人: \"王敏\"<wangmin@acme.test>;\r\n" +
		"\r\n" +
		"如不希望再收到此类邮件，请回复“退订”。\r\n"
	p, err := inbox.Parse(strings.NewReader(raw), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := inbox.Classify(p, inbox.DefaultRules())
	fmt.Println(p.From.Name, p.Subject, p.InReplyTo)
	fmt.Println(c.Kind, c.Reason)
	fmt.Println(c.Reply)
	// Output:
	// 李雷 回复：面试反馈 [6ztx4p2lq3m5zq7a.0@acme.test]
	// not_interested not-interested phrase "暂时不考虑"
	// 谢谢，不过我暂时不考虑机会了。
}
