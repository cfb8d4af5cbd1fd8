package inbox

import (
	"regexp"
	"sort"
	"strings"
	"time"
)

// Kind is what an incoming message means for the sequence it answers.
type Kind string

// The kinds Classify tells apart.
const (
	KindReply         Kind = "reply"          // a person wrote back
	KindAutoReply     Kind = "auto_reply"     // out-of-office, vacation, read receipt, delayed DSN, other automatic mail
	KindBounce        Kind = "bounce"         // delivery failed for good or for now (see Bounce.Hard)
	KindComplaint     Kind = "complaint"      // the recipient reported the mail as spam (ARF)
	KindUnsubscribe   Kind = "unsubscribe"    // a person asked to get no more mail
	KindNotInterested Kind = "not_interested" // a person said they are not looking
)

// Classification is the verdict on one message.
type Classification struct {
	Kind Kind
	// Reason names the rule that decided, for the log and the timeline:
	// "Auto-Submitted: auto-replied", "subject 自动回复", "RFC 3464 report",
	// "Postfix bounce text", `unsubscribe phrase "退订"`, ….
	Reason string
	// ReturnDate is, for an auto-reply, the day the person says they are
	// back (midnight in the time zone of the message's Date), or nil when
	// the text gives none or Classify is unsure. See returnDate for the
	// rules.
	ReturnDate *time.Time
	// Bounce is the failed recipient of a bounce.
	Bounce *Bounce
	// Reply is the human text with quoted history and signature stripped
	// (StripQuoted); set for reply, unsubscribe and not_interested.
	Reply string
}

// Bounce is one failed recipient of a bounce.
type Bounce struct {
	Recipient  string // the address that failed (as we sent to it, when the report says)
	Status     string // RFC 3463 enhanced code ("5.1.1") when known, else the SMTP reply code ("550"), else ""
	Diagnostic string // the remote server's words, unfolded, at most a few hundred characters
	// Hard is true for a permanent failure: a 5.x.x status (or 5xx reply)
	// or permanent wording, except a full mailbox. A 4.x.x status, "mailbox
	// full"/over-quota (even as 5.2.2) and failures stated without code or
	// permanent wording are soft.
	Hard bool
	// Others lists further failed recipients of the same report (rare: we
	// send one candidate per message).
	Others []Bounce
}

// Rules are the phrases that turn a human reply into an unsubscribe or a
// not-interested. They are matched case-insensitively, with white space
// collapsed, on the stripped reply only, never on quoted history: our own
// footer ("reply 退订 to unsubscribe") is quoted in most replies.
type Rules struct {
	Unsubscribe   []string
	NotInterested []string
}

// DefaultRules returns the zh and en phrases Followup ships with.
func DefaultRules() Rules {
	return Rules{
		Unsubscribe: []string{
			"退订", "取消订阅", "请勿再联系", "不要再联系我", "别再联系我", "不要再发", "别再发", "请不要再给我发",
			"请停止发送", "拒绝接收", "移除我的邮箱",
			"unsubscribe", "remove me", "stop emailing", "stop contacting", "stop sending", "take me off",
			"do not contact me", "don't contact me", "do not email me", "don't email me", "opt out", "opt-out",
		},
		NotInterested: []string{
			"暂时不考虑", "暂不考虑", "不考虑机会", "不考虑新机会", "不考虑换工作", "不打算换工作", "已经找到工作", "已找到工作",
			"已入职", "已经入职", "没有兴趣", "没兴趣", "不感兴趣", "接受了其他offer", "接了别的offer", "已接受其他",
			"not looking", "not interested", "no longer looking", "no longer interested", "accepted another offer",
			"accepted an offer", "not open to new", "happy where i am",
		},
	}
}

// Classify decides what p means, in this order (the first that applies
// wins):
//
//  1. complaint: an ARF report (RFC 5965 §3: multipart/report with
//     report-type=feedback-report and a message/feedback-report part),
//     except Feedback-Type "not-spam" (RFC 6650), an auto_reply;
//  2. bounce: an RFC 3464 report with a recipient whose Action is "failed"
//     (a report whose recipients are only "delayed" is an auto_reply with
//     Reason "delayed DSN": the MTA is still trying, nothing failed yet; an
//     RFC 3464 success report and an RFC 8098 read receipt are auto_reply
//     too); then non-standard bounce texts (Postfix, Exim, Sendmail, qmail,
//     Exchange/Office 365, Gmail, Yahoo, QQ/Tencent, NetEase, Aliyun) told
//     by sender, X-Failed-Recipients, subject and body (see bounceText);
//  3. auto_reply: RFC 3834 markers and their vendor cousins (see
//     autoReason), automatic subjects, and explicit "this is an automatic
//     reply" wording in the reply;
//  4. for a person's words (the stripped reply): a subject or phrase from
//     r.Unsubscribe, then one from r.NotInterested, else reply.
//
// A message with no automatic marker at all is a reply: a person who wrote
// back must never get the next step of the sequence.
func Classify(p *Parsed, r Rules) Classification {
	if p == nil {
		return Classification{Kind: KindReply, Reason: "no message parsed"}
	}
	if c, ok := classifyComplaint(p); ok {
		return c
	}
	if c, ok := classifyReport(p); ok {
		return c
	}
	if c, ok := bounceText(p); ok {
		return c
	}
	reply := StripQuoted(p.Text)
	if reason := autoReason(p, reply); reason != "" {
		src := reply
		if strings.TrimSpace(src) == "" {
			src = p.Text
		}
		return Classification{Kind: KindAutoReply, Reason: reason, ReturnDate: returnDate(src, p.Date)}
	}
	if phrase := subjectCommand(p.Subject, r.Unsubscribe); phrase != "" {
		// RFC 2369 List-Unsubscribe mailto: links send a message whose
		// subject is the command and whose body may be empty.
		return Classification{Kind: KindUnsubscribe, Reason: "subject " + quotePhrase(phrase), Reply: reply}
	}
	norm := normalizePhraseText(reply)
	if phrase := findPhrase(norm, r.Unsubscribe); phrase != "" {
		return Classification{Kind: KindUnsubscribe, Reason: "unsubscribe phrase " + quotePhrase(phrase), Reply: reply}
	}
	if phrase := findPhrase(norm, r.NotInterested); phrase != "" {
		return Classification{Kind: KindNotInterested, Reason: "not-interested phrase " + quotePhrase(phrase), Reply: reply}
	}
	return Classification{Kind: KindReply, Reason: "no automatic markers", Reply: reply}
}

func quotePhrase(s string) string { return `"` + s + `"` }

// ---- complaints and RFC 6522 reports ---------------------------------------

func classifyComplaint(p *Parsed) (Classification, bool) {
	if p.Feedback == nil && p.ReportType != "feedback-report" {
		return Classification{}, false
	}
	reason := "RFC 5965 feedback report"
	if p.Feedback != nil && p.Feedback.FeedbackType != "" {
		reason += " (Feedback-Type: " + p.Feedback.FeedbackType + ")"
	}
	if p.Feedback != nil && p.Feedback.FeedbackType == "not-spam" {
		// RFC 6650 §3 registers "not-spam": the recipient says the mail
		// is wanted. Automatic, and no complaint.
		return Classification{Kind: KindAutoReply, Reason: reason}, true
	}
	return Classification{Kind: KindComplaint, Reason: reason}, true
}

// classifyReport handles RFC 3464 delivery status notifications and RFC
// 8098 disposition notifications.
func classifyReport(p *Parsed) (Classification, bool) {
	if p.ReportType == "disposition-notification" {
		return Classification{Kind: KindAutoReply, Reason: "read receipt (RFC 8098 disposition-notification)"}, true
	}
	ds := p.DeliveryStatus
	if ds == nil || len(ds.Recipients) == 0 {
		return Classification{}, false
	}
	var failed []Bounce
	delayed, delivered := "", ""
	for _, rs := range ds.Recipients {
		action := rs.Action
		if action == "" {
			// Action is required (RFC 3464 §2.3.3); infer it from the
			// status class (RFC 3463 §3.1) when a broken MTA left it out.
			switch {
			case strings.HasPrefix(rs.Status, "5."):
				action = "failed"
			case strings.HasPrefix(rs.Status, "4."):
				action = "delayed"
			case strings.HasPrefix(rs.Status, "2."):
				action = "delivered"
			}
		}
		switch action {
		case "failed":
			rcpt := rs.OriginalRecipient
			if rcpt == "" {
				rcpt = rs.FinalRecipient
			}
			status := rs.Status
			if status == "" {
				status, _ = findStatus(rs.DiagnosticCode)
			}
			failed = append(failed, Bounce{
				Recipient:  rcpt,
				Status:     status,
				Diagnostic: clipText(rs.DiagnosticCode, 300),
				Hard:       isHardBounce(status, rs.DiagnosticCode, ""),
			})
		case "delayed":
			delayed = rs.Status
		case "delivered", "relayed", "expanded":
			delivered = action
		}
	}
	switch {
	case len(failed) > 0:
		b := failed[0]
		b.Others = failed[1:]
		if len(b.Others) == 0 {
			b.Others = nil
		}
		return Classification{Kind: KindBounce, Reason: "RFC 3464 report (Action: failed)", Bounce: &b}, true
	case delayed != "" || p.DeliveryStatus != nil && hasDelayWording(p):
		return Classification{Kind: KindAutoReply, Reason: "delayed DSN (RFC 3464 Action: delayed)"}, true
	case delivered != "":
		return Classification{Kind: KindAutoReply, Reason: "RFC 3464 success report (Action: " + delivered + ")"}, true
	}
	return Classification{}, false
}

// ---- non-standard bounces -------------------------------------------------

var (
	// Senders of bounces: RFC 5321 §4.5.1 postmaster, the traditional
	// MAILER-DAEMON, Exchange's "MicrosoftExchange…" system mailbox.
	daemonLocal = regexp.MustCompile(`(?i)^(?:mailer-daemon|mailer_daemon|maildaemon|mail-daemon|postmaster|microsoftexchange[0-9a-f]*|mdaemon|mail\.delivery\.system|bounce|bounces)(?:[+=.].*)?$`)
	daemonName  = regexp.MustCompile(`(?i)^(?:mail delivery (?:subsystem|system|service)|mailer-daemon|postmaster|microsoft outlook|系统退信|退信服务|系统邮件|邮件投递系统|邮件系统)$`)

	bounceSubject = regexp.MustCompile(`(?i)undeliver|undelivered mail|returned mail|mail delivery failed|delivery status notification|delivery failure|delivery has failed|failure notice|delivery notification|non[- ]?deliver|not delivered|could not send|mail system error|unzustellbar|non remis|no entregado|系统退信|退信|投递失败|发送失败|发信失败|无法投递|无法送达|未送达|未能送达|邮件被退回|退回`)

	// Wording of failure in bounce bodies, from the MTAs named in
	// bounceMTA; lowercase.
	bounceBody = regexp.MustCompile(`could not be delivered|couldn't be delivered|couldn’t be delivered|wasn't delivered|wasn’t delivered|was not delivered|not be delivered|undeliverable|delivery has failed|delivery failed|delivery to the following recipient(?:s)? failed|permanent error|permanent fatal error|address(?:\(es\))? failed|unable to deliver|wasn't able to deliver|not able to deliver|address not found|user unknown|unknown user|no such user|mailbox unavailable|mailbox not found|user not found|recipient not found|recipient address rejected|does not exist|doesn't have a .* account|returned to sender|message not delivered|退信|无法送达|未能送达|无法发送|未能发送|发送失败|投递失败|被退回|地址不存在|用户不存在|帐号不存在|账号不存在|邮箱不存在|无法投递|未能成功投递`)

	// Wording of a delay notice (the MTA is still trying).
	delaySubject = regexp.MustCompile(`(?i)\(delay\)|delayed mail|delivery delayed|message delayed|warning: message .* delayed|still being retried|延迟|延时`)
	delayBody    = regexp.MustCompile(`has been delayed|is delayed|will (?:continue|keep) (?:trying|to try)|will retry|still trying|this is a warning message only|no action is required on your part|delivery delayed|not yet been delivered|延迟投递|仍在尝试|会继续尝试`)
)

// isBounceSender reports whether the From or Return-Path is a mail
// system's rather than a person's.
func isBounceSender(p *Parsed) bool {
	if local, _, ok := strings.Cut(p.From.Address, "@"); ok && daemonLocal.MatchString(local) {
		return true
	}
	if p.From.Name != "" && daemonName.MatchString(strings.TrimSpace(p.From.Name)) {
		return true
	}
	return false
}

func hasDelayWording(p *Parsed) bool {
	return delaySubject.MatchString(p.Subject) || delayBody.MatchString(strings.ToLower(bounceSection(p.Text)))
}

// bounceSection is the part of a bounce text before the pasted copy of the
// returned message, so that addresses and codes of the original are not
// taken for the failure.
func bounceSection(text string) string {
	if loc := inlineOriginalMarker.FindStringIndex(text); loc != nil {
		return text[:loc[0]]
	}
	if i := strings.Index(text, "\nReturn-Path:"); i >= 0 {
		return text[:i]
	}
	return text
}

// bounceText recognises bounces that are not RFC 3464 reports. It needs a
// mail-system sender (MAILER-DAEMON, postmaster, "Mail Delivery
// Subsystem", …) or an X-Failed-Recipients header (Exim, Gmail) together
// with a bounce subject or failure wording; or, from any sender, a bounce
// subject together with failure wording and an SMTP code. A person's reply
// that only mentions a bounce has neither.
func bounceText(p *Parsed) (Classification, bool) {
	failedHdr := strings.TrimSpace(p.Header.Get("X-Failed-Recipients"))
	sender := isBounceSender(p) || failedHdr != ""
	subj := bounceSubject.MatchString(p.Subject)
	isReport := p.ReportType == "delivery-status"
	if !sender && !subj && !isReport {
		return Classification{}, false // the common case: a person's mail
	}
	// Bounce notices are short; the pasted original is cut off, and so is
	// anything past the first 64 KB.
	section := limitRunes(bounceSection(p.Text), 64<<10)
	lower := strings.ToLower(section)
	body := bounceBody.MatchString(lower)
	status, _ := findStatus(section)
	if !(sender && (subj || body)) && !(subj && body && status != "") && !(isReport && (subj || body)) {
		if (sender || isReport) && (delaySubject.MatchString(p.Subject) || delayBody.MatchString(lower)) {
			return Classification{Kind: KindAutoReply, Reason: "delayed DSN (" + bounceMTA(p, lower) + " delay notice)"}, true
		}
		return Classification{}, false
	}
	if delaySubject.MatchString(p.Subject) || (!body && delayBody.MatchString(lower)) {
		return Classification{Kind: KindAutoReply, Reason: "delayed DSN (" + bounceMTA(p, lower) + " delay notice)"}, true
	}

	b := &Bounce{}
	exclude := map[string]bool{strings.ToLower(p.From.Address): true}
	for _, a := range p.To {
		exclude[strings.ToLower(a.Address)] = true
	}
	var rcptAt int
	if failedHdr != "" {
		// Exim §"X-Failed-Recipients", also set by Gmail.
		if as := emailAddr.FindAllString(failedHdr, -1); len(as) > 0 {
			b.Recipient = as[0]
			for _, a := range as[1:] {
				b.Others = append(b.Others, Bounce{Recipient: a})
			}
		}
		rcptAt = strings.Index(lower, strings.ToLower(b.Recipient))
	}
	if b.Recipient == "" {
		b.Recipient, rcptAt = anchoredRecipient(section, exclude)
	}
	if b.Recipient == "" && p.Original != nil && len(p.Original.To) > 0 {
		b.Recipient, rcptAt = p.Original.To[0].Address, -1
	}
	seg := section
	if rcptAt > 0 {
		seg = section[rcptAt:]
	}
	var line string
	b.Status, line = findStatus(seg)
	if b.Status == "" && rcptAt > 0 {
		b.Status, line = findStatus(section)
	}
	b.Diagnostic = clipText(diagnosticText(section, line), 300)
	b.Hard = isHardBounce(b.Status, b.Diagnostic, lower)
	for i := range b.Others {
		b.Others[i].Status, b.Others[i].Diagnostic, b.Others[i].Hard = b.Status, b.Diagnostic, b.Hard
	}
	return Classification{Kind: KindBounce, Reason: bounceMTA(p, lower), Bounce: b}, true
}

// bounceMTA names the bounce format for Reason, from wording each MTA is
// known to use.
func bounceMTA(p *Parsed, lower string) string {
	from := strings.ToLower(p.From.Address)
	has := func(ss ...string) bool {
		for _, s := range ss {
			if strings.Contains(lower, s) {
				return true
			}
		}
		return false
	}
	switch {
	case strings.HasSuffix(from, "yahoo.com") || strings.Contains(from, "yahoo.") || has("yahoo.com account", "sorry, we were unable to deliver your message"):
		return "Yahoo bounce text"
	case has("this is the mail system at host", "the postfix program", "postfix"):
		return "Postfix bounce text"
	case has("qmail-send", "this is the qmail"):
		return "qmail bounce text"
	case has("this message was created automatically by mail delivery software", "exim"):
		return "Exim bounce text"
	case has("the following addresses had permanent fatal errors", "the following addresses had transient", "transcript of session follows", "unsent message follows"):
		return "Sendmail bounce text"
	case has("resolver.adr", "delivery has failed to these recipients", "diagnostic information for administrators", "office 365", "microsoft exchange", "couldn't be delivered", "couldn’t be delivered") ||
		strings.HasPrefix(strings.ToLower(p.Subject), "undeliverable:"):
		return "Exchange NDR"
	case strings.Contains(from, "google") || strings.Contains(from, "gmail") || has("address not found"):
		return "Gmail bounce"
	case strings.HasSuffix(from, "qq.com") || has("qq.com", "腾讯", "qq邮箱", "exmail"):
		return "QQ/Tencent 退信"
	case strings.HasSuffix(from, "163.com") || strings.HasSuffix(from, "126.com") || strings.HasSuffix(from, "yeah.net") || has("网易", "netease", "163.com", "126.com"):
		return "NetEase 退信"
	case strings.Contains(from, "aliyun") || strings.Contains(from, "alibaba") || has("阿里", "aliyun"):
		return "Aliyun 退信"
	case p.ReportType == "delivery-status":
		return "RFC 3464 report text"
	}
	return "bounce text from mail system"
}

var emailAddr = regexp.MustCompile(`[A-Za-z0-9._%+\-=!#$&'*/?^{|}~]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+`)

// recipientAnchor matches the words after which each MTA names the failed
// recipient; lowercase.
var recipientAnchor = regexp.MustCompile(`following address(?:\(es\))? failed|following addresses had (?:permanent|transient)|following address(?:es)?|following recipients?|delivery has failed to these recipients|delivery to the following recipients? failed|your message to|message wasn't delivered to|message wasn’t delivered to|wasn't delivered to|was not delivered to|couldn't be delivered to|could not be delivered to|could not deliver to|unable to deliver (?:your message )?to|deliver your message to|发送到下面的地址|下面的地址|未能发送到|无法发送到|无法送达|收件人(?:地址)?[:：]|收信人[:：]|收件人|rcpt to:`)

// anchoredRecipient finds the first address after a recipient anchor, else
// the first address in the text, skipping our own and mail-system
// addresses.
func anchoredRecipient(text string, exclude map[string]bool) (string, int) {
	lower := strings.ToLower(text)
	ok := func(a string) bool {
		local, _, _ := strings.Cut(a, "@")
		return !exclude[strings.ToLower(a)] && !daemonLocal.MatchString(local) && !strings.HasPrefix(strings.ToLower(local), "no-reply") && !strings.HasPrefix(strings.ToLower(local), "noreply")
	}
	for _, loc := range recipientAnchor.FindAllStringIndex(lower, -1) {
		end := min(len(text), loc[1]+400)
		for _, m := range emailAddr.FindAllStringIndex(text[loc[1]:end], -1) {
			a := text[loc[1]+m[0] : loc[1]+m[1]]
			if ok(a) {
				return a, loc[1] + m[0]
			}
		}
	}
	for _, m := range emailAddr.FindAllStringIndex(text, -1) {
		if a := text[m[0]:m[1]]; ok(a) {
			return a, m[0]
		}
	}
	return "", -1
}

var (
	smtpWithEnhanced = regexp.MustCompile(`\b([45][0-5][0-9])[ \-]#?([245]\.[0-9]{1,3}\.[0-9]{1,3})`)
	enhancedAlone    = regexp.MustCompile(`#?([245]\.[0-9]{1,3}\.[0-9]{1,3})`)
	smtpAlone        = regexp.MustCompile(`(?:^|[^0-9.:/\-])([45][0-5][0-9])(?:[ :\-]|$)`)
)

// findStatus finds the status of a failure in text: an SMTP reply code
// with an RFC 3463 enhanced code ("550 5.1.1", "#550 5.1.10"), else an
// enhanced code alone that is not part of an IP address or version, else a
// bare 4xx/5xx reply code. It returns the code and the line it is on.
func findStatus(text string) (string, string) {
	if m := smtpWithEnhanced.FindStringSubmatchIndex(text); m != nil {
		return text[m[4]:m[5]], lineAt(text, m[0])
	}
	for _, m := range enhancedAlone.FindAllStringSubmatchIndex(text, -1) {
		if standalone(text, m[2], m[3]) {
			return text[m[2]:m[3]], lineAt(text, m[0])
		}
	}
	for _, m := range smtpAlone.FindAllStringSubmatchIndex(text, -1) {
		if standalone(text, m[2], m[3]) {
			return text[m[2]:m[3]], lineAt(text, m[2])
		}
	}
	return "", ""
}

// standalone reports whether text[i:j] is not glued to digits or dots (an
// IP address, a version, a time).
func standalone(text string, i, j int) bool {
	if i > 0 {
		if c := text[i-1]; c == '.' || c >= '0' && c <= '9' {
			return false
		}
	}
	if j < len(text) {
		c := text[j]
		if c >= '0' && c <= '9' {
			return false
		}
		if c == '.' && j+1 < len(text) && text[j+1] >= '0' && text[j+1] <= '9' {
			return false
		}
	}
	return true
}

func lineAt(text string, i int) string {
	start := strings.LastIndexByte(text[:i], '\n') + 1
	end := strings.IndexByte(text[i:], '\n')
	if end < 0 {
		return text[start:]
	}
	return text[start : i+end]
}

var reasonLine = regexp.MustCompile(`(?m)^[ \t]*(?:退信原因|失败原因|错误原因|原因|reason)[ \t]*[:：][ \t]*(.+)$`)

// diagnosticText is the status line with its indented continuation lines
// (Postfix and Exim fold long server replies), or a "退信原因：" line.
func diagnosticText(text, line string) string {
	if line == "" {
		if m := reasonLine.FindStringSubmatch(text); m != nil {
			return strings.TrimSpace(m[1])
		}
		return ""
	}
	out := strings.TrimSpace(line)
	i := strings.Index(text, line)
	if i < 0 {
		return out
	}
	rest := text[i+len(line):]
	for _, l := range strings.Split(strings.TrimPrefix(rest, "\n"), "\n") {
		if l == "" || (l[0] != ' ' && l[0] != '\t') || len(out) > 300 {
			break
		}
		out += " " + strings.TrimSpace(l)
	}
	if m := reasonLine.FindStringSubmatch(text); m != nil && !strings.Contains(out, strings.TrimSpace(m[1])) {
		out = strings.TrimSpace(m[1]) + " " + out
	}
	return out
}

var (
	mailboxFull   = regexp.MustCompile(`(?i)mailbox (?:is )?full|mailbox full|over ?quota|quota exceeded|exceeded (?:the )?(?:storage|quota)|exceeds (?:the )?quota|insufficient (?:system )?storage|storage full|not enough (?:space|storage)|空间不足|邮箱已满|容量已满|容量不足|超出容量|[45]\.2\.2\b`)
	permanentWord = regexp.MustCompile(`(?i)permanent error|permanent fatal|permanently|i've given up|i have given up|given up|does not exist|doesn't exist|no such user|user unknown|unknown user|address not found|recipient not found|user not found|mailbox not found|invalid recipient|不存在|无此用户|永久`)
)

// isHardBounce applies Bounce.Hard's rule.
func isHardBounce(status, diag, text string) bool {
	if mailboxFull.MatchString(diag) || mailboxFull.MatchString(status) {
		return false
	}
	switch {
	case strings.HasPrefix(status, "5"):
		return true
	case strings.HasPrefix(status, "4"):
		return false
	}
	if mailboxFull.MatchString(text) {
		return false
	}
	return permanentWord.MatchString(diag) || permanentWord.MatchString(text)
}

func clipText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	return limitRunes(s, n)
}

// ---- auto-replies -----------------------------------------------------------

var (
	// Subjects automatic replies start with (Outlook/Exchange in en, zh-CN
	// "自动答复", zh-TW "自動回覆", ja, de, fr, es, it; QQ Mail and NetEase
	// "自动回复"; "Auto:"). Short or common words ("休假", "外出", "OOO")
	// count only at the start of the subject.
	autoSubjectPrefix = regexp.MustCompile(`(?i)^[\s\[【(（]*(?:automatic reply|auto(?:matic)?[ -]?(?:reply|response)|autoreply|auto:|out of (?:the )?office|ooo\b|自动回复|自动答复|自動回覆|自動回复|自動応答|假期自动回复|休假|不在办公室|外出|abwesenheitsnotiz|abwesend|réponse automatique|respuesta automática|risposta automatica|automatisch antwoord|away from (?:the )?office|on vacation|vacation reply|autosvar)`)
	// Distinctive phrases also taken later in a subject, unless the subject
	// is a reply ("Re: …") to such a message.
	autoSubjectAnywhere = regexp.MustCompile(`(?i)automatic reply|auto[ -]?reply|autoreply|out of (?:the )?office|自动回复|自动答复|自動回覆|自動応答|不在办公室|abwesenheitsnotiz|réponse automatique`)
	replyPrefix         = regexp.MustCompile(`(?i)^[\s\[【]*(?:re|aw|sv|fw|fwd|回复|答复|回覆|转发|轉寄)\s*[:：]`)
	// Explicit statements that the text was sent automatically.
	autoBody = regexp.MustCompile(`(?i)this is an? (?:automatic|automated|auto-generated|auto)[ -]?(?:reply|response|message|e-?mail|notification)|this (?:e-?mail|message) (?:is|was) (?:sent |generated )?automatically|这是(?:一封)?(?:来自[^。，,\n]{0,12}的)?(?:假期)?自动回复|(?:此|本|该)(?:邮件|信|封邮件)(?:为|是)(?:系统)?自动(?:回复|发送|生成)|自动回复邮件|此为自动回复|自動回覆郵件|这是自动答复`)
)

// autoReason returns why p is an automatic message, or "".
//
//   - Auto-Submitted other than "no" (RFC 3834 §5; RFC 5436 auto-notified);
//   - X-Autoreply, X-Autorespond (various responders, e.g. vacation(1) and
//     many webmails);
//   - Precedence: auto_reply, bulk, junk or list (the pre-RFC 3834
//     convention, RFC 3834 §3.1.8 and §5);
//   - X-Auto-Response-Suppress (Exchange/Outlook, MS-OXCMAIL §2.2.3.2.20)
//     together with an automatic subject — Outlook sets the header on
//     other mail too, so alone it proves nothing;
//   - an automatic subject;
//   - the reply saying it is an automatic message ("This is an automatic
//     reply", "这是一封自动回复邮件", in its first 4096 characters).
//
// An X-Failed-Recipients header (Exim) marks a bounce, handled before.
func autoReason(p *Parsed, reply string) string {
	h := p.Header
	if v := strings.TrimSpace(h.Get("Auto-Submitted")); v != "" && !strings.EqualFold(firstToken(v), "no") {
		return "Auto-Submitted: " + strings.ToLower(firstToken(v))
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder"} {
		if v := strings.TrimSpace(h.Get(k)); v != "" && !strings.EqualFold(v, "no") && !strings.EqualFold(v, "false") {
			return k + ": " + v
		}
	}
	if v := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); v == "auto_reply" || v == "bulk" || v == "junk" || v == "list" {
		return "Precedence: " + v
	}
	subj := strings.TrimSpace(p.Subject)
	autoSubj := ""
	if m := autoSubjectPrefix.FindString(subj); m != "" {
		autoSubj = strings.Trim(strings.TrimSpace(m), "[【(（:")
	} else if !replyPrefix.MatchString(subj) {
		autoSubj = autoSubjectAnywhere.FindString(subj)
	}
	if autoSubj != "" {
		if _, ok := h["X-Auto-Response-Suppress"]; ok {
			return "X-Auto-Response-Suppress with subject " + autoSubj
		}
		return "subject " + autoSubj
	}
	if m := autoBody.FindString(limitRunes(reply, 4096)); m != "" {
		return "text says " + quotePhrase(m)
	}
	return ""
}

func firstToken(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, "; \t("); i >= 0 {
		return v[:i]
	}
	return v
}

// ---- phrases ----------------------------------------------------------------

// normalizePhraseText lowercases s, unifies apostrophes and collapses white
// space, so "Not\n interested" and "I’m" match.
func normalizePhraseText(s string) string {
	s = phraseReplacer.Replace(strings.ToLower(s))
	return strings.Join(strings.Fields(s), " ")
}

var phraseReplacer = strings.NewReplacer("’", "'", "‘", "'", "\u00a0", " ", "　", " ")

// findPhrase returns the first phrase of list found in norm (already
// normalized). An ASCII phrase must not run into letters or digits at its
// ends ("remove me" does not match "remove mentions"); CJK phrases match
// anywhere.
func findPhrase(norm string, list []string) string {
	for _, ph := range list {
		p := normalizePhraseText(ph)
		if p == "" {
			continue
		}
		for from := 0; ; {
			i := strings.Index(norm[from:], p)
			if i < 0 {
				break
			}
			i += from
			j := i + len(p)
			if wordEdge(norm, i, j) && !negatedMatch(norm, p, j) {
				return ph
			}
			from = i + 1
		}
	}
	return ""
}

// wordEdge reports whether norm[i:j] is not glued to ASCII letters on a
// side where the phrase itself ends in an ASCII letter.
func wordEdge(norm string, i, j int) bool {
	isLetter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if i > 0 && isLetter(norm[i]) && isLetter(norm[i-1]) {
		return false
	}
	if j < len(norm) && isLetter(norm[j-1]) && isLetter(norm[j]) {
		return false
	}
	return true
}

// negatedMatch catches the one common false friend: "not looking forward".
func negatedMatch(norm, phrase string, j int) bool {
	return phrase == "not looking" && strings.HasPrefix(strings.TrimSpace(norm[j:]), "forward")
}

// subjectCommand reports the phrase of list that the subject consists of
// (after reply prefixes and punctuation), as a mailto: unsubscribe sends.
func subjectCommand(subject string, list []string) string {
	s := subject
	for {
		loc := replyPrefix.FindStringIndex(s)
		if loc == nil {
			break
		}
		s = s[loc[1]:]
	}
	s = normalizePhraseText(strings.Trim(strings.TrimSpace(s), " .!。！[]【】"))
	if s == "" {
		return ""
	}
	for _, ph := range list {
		if normalizePhraseText(ph) == s {
			return ph
		}
	}
	return ""
}

// ---- return dates -----------------------------------------------------------

// dateMention is one date (or weekday) found in an auto-reply.
type dateMention struct {
	start, end int
	year       int // 0: not given
	month, day int
	altMonth   int // for an ambiguous numeric d/m vs m/d date: the other reading
	altDay     int
	weekday    int  // weekday-only mention: 1 (Monday) … 7 (Sunday)
	nextWeek   bool // "下周一": the weekday of next calendar week
}

const enMonths = `jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?`

var (
	reISODate   = regexp.MustCompile(`\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b`)
	reZHYMD     = regexp.MustCompile(`(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]?`)
	reZHMD      = regexp.MustCompile(`(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]`)
	reZHMDHan   = regexp.MustCompile(`([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})[日号號]`)
	reENDayMon  = regexp.MustCompile(`\b(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+(` + enMonths + `)\b\.?(?:,?\s+(\d{4})\b)?`)
	reENMonDay  = regexp.MustCompile(`\b(` + enMonths + `)\b\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4})\b)?`)
	reNumeric   = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b`)
	reENWeekday = regexp.MustCompile(`\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b`)
	reZHWeekday = regexp.MustCompile(`(下个?)?(?:周|星期|礼拜)([一二三四五六日天])`)

	reDateFollows = regexp.MustCompile(`^\.?[,，\s]*(?:the\s+)?(?:\d|(?:` + enMonths + `)\b)`)

	// Weekday named right before a date ("Monday, 1 December", "周二
	// 12月1日") or right after it in brackets ("12月1日（周二）").
	reWeekdayBefore = regexp.MustCompile(`(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thurs|fri|sat|sun|(?:周|星期|礼拜)[一二三四五六日天])\.?[,，\s]*(?:the\s+)?$`)
	reWeekdayAfter  = regexp.MustCompile(`^\s*[(（]\s*(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thurs|fri|sat|sun|(?:周|星期|礼拜)[一二三四五六日天])\.?\s*[)）]`)

	// What makes a mention a return date. "On": the day itself.
	// "Through": the last day away, so back the day after.
	zhReturnAfter = regexp.MustCompile(`^\s*(?:[(（][^)）]{0,8}[)）])?\s*(?:\d{1,2}[:：]\d{2})?\s*(?:起|开始|以后|之后|后)?\s*(?:会|将|才|就|再|即)?\s*(?:回来|返回|返岗|回到|回公司|回办公室|上班|到岗|复工|回归|返工|恢复|回复|处理|回国|返京|返沪|正常办公)`)
	zhBeforeAfter = regexp.MustCompile(`^\s*(?:[(（][^)）]{0,8}[)）])?\s*(?:之前|以前|前)`)
	zhThrough     = regexp.MustCompile(`(?:至|到|截至|截止到?|直到|持续到)\s*$`)
	zhLeave       = regexp.MustCompile(`休假|请假|假期|年假|产假|婚假|病假|出差|外出|不在|休息|放假|旅行|度假|离开|不方便`)
	enUntil       = regexp.MustCompile(`\b(?:until|till|til|untill)\b[^.!?\n]{0,16}$`)
	enThrough     = regexp.MustCompile(`\b(?:through|thru|up to and including)\b[^.!?\n]{0,16}$`)
	enTo          = regexp.MustCompile(`(?:\bto\b|[-–])\s*(?:\w+day,?\s*)?(?:the\s+)?$`)
	enLeave       = regexp.MustCompile(`out of (?:the )?office|\bleave\b|vacation|holiday|\baway\b|\boff\b|travel|absent|ooo\b`)
	enOn          = regexp.MustCompile(`\b(?:back|return|returning|returns|be in|in the office|in office|available|reachable|resume|resuming|respond|reply|replying)\b[^.!?\n]{0,40}$`)
)

type dateSense int

const (
	senseNone    dateSense = iota
	senseOn                // the person is back on that day
	senseThrough           // the person is away up to and including that day
)

// returnDate finds the day the sender of an auto-reply says they are
// back, relative to ref (the message's Date):
//
//   - a date counts only when the words around it say it is a return:
//     "back/return/in the office … X", "until X", "将于X返回", "X回来",
//     "X后回复" mean back on X; "through X", "休假至X", "请假到X", "from A to
//     X" (with leave wording) mean away through X, back on X+1;
//   - dates: "2026-12-02", "2026年12月2日", "12月2日/号", "十二月二日", "2
//     December", "December 2nd, 2026", weekdays ("back on Monday": the
//     next one after ref; "下周一": Monday of next week); a numeric "1/12"
//     is used only when one reading is impossible (a part above 12) or a
//     weekday next to it picks exactly one reading;
//   - without a year: ref's year, or the next year when that day is more
//     than 60 days before ref (a December message saying "back 3 January");
//     a day 1–60 days before ref is a stale auto-reply: unsure;
//   - the result must lie between ref's day and 366 days after; a weekday
//     named next to a date must agree with it; otherwise unsure.
//
// The first date with return wording decides; when it is unsure the answer
// is nil rather than a guess from a later date.
func returnDate(text string, ref time.Time) *time.Time {
	lower := strings.ToLower(limitRunes(text, 8192)) // an auto-reply says it early

	for _, m := range findDateMentions(lower) {
		sense := mentionSense(lower, m)
		if sense == senseNone {
			continue
		}
		t, ok := resolveMention(lower, m, ref)
		if !ok {
			return nil
		}
		if sense == senseThrough {
			t = t.AddDate(0, 0, 1)
		}
		if !ref.IsZero() {
			refDay := dayOf(ref, ref.Location())
			if t.Before(refDay) || t.After(refDay.AddDate(0, 0, 366)) {
				return nil
			}
		}
		return &t
	}
	return nil
}

func findDateMentions(s string) []dateMention {
	var ms []dateMention
	add := func(m dateMention) {
		for _, o := range ms {
			if m.start < o.end && o.start < m.end {
				return // overlaps a mention found by a more specific pattern
			}
		}
		ms = append(ms, m)
	}
	for _, g := range reISODate.FindAllStringSubmatchIndex(s, -1) {
		add(dateMention{start: g[0], end: g[1], year: parseSmallInt(s[g[2]:g[3]]), month: parseSmallInt(s[g[4]:g[5]]), day: parseSmallInt(s[g[6]:g[7]])})
	}
	for _, g := range reZHYMD.FindAllStringSubmatchIndex(s, -1) {
		add(dateMention{start: g[0], end: g[1], year: parseSmallInt(s[g[2]:g[3]]), month: parseSmallInt(s[g[4]:g[5]]), day: parseSmallInt(s[g[6]:g[7]])})
	}
	for _, g := range reZHMD.FindAllStringSubmatchIndex(s, -1) {
		add(dateMention{start: g[0], end: g[1], month: parseSmallInt(s[g[2]:g[3]]), day: parseSmallInt(s[g[4]:g[5]])})
	}
	for _, g := range reZHMDHan.FindAllStringSubmatchIndex(s, -1) {
		add(dateMention{start: g[0], end: g[1], month: hanNumber(s[g[2]:g[3]]), day: hanNumber(s[g[4]:g[5]])})
	}
	for _, g := range reENDayMon.FindAllStringSubmatchIndex(s, -1) {
		m := dateMention{start: g[0], end: g[1], day: parseSmallInt(s[g[2]:g[3]]), month: monthNumber(s[g[4]:g[5]])}
		if g[6] >= 0 {
			m.year = parseSmallInt(s[g[6]:g[7]])
		}
		add(m)
	}
	for _, g := range reENMonDay.FindAllStringSubmatchIndex(s, -1) {
		m := dateMention{start: g[0], end: g[1], month: monthNumber(s[g[2]:g[3]]), day: parseSmallInt(s[g[4]:g[5]])}
		if g[6] >= 0 {
			m.year = parseSmallInt(s[g[6]:g[7]])
		}
		add(m)
	}
	for _, g := range reNumeric.FindAllStringSubmatchIndex(s, -1) {
		a, b := parseSmallInt(s[g[2]:g[3]]), parseSmallInt(s[g[4]:g[5]])
		m := dateMention{start: g[0], end: g[1], day: a, month: b, altMonth: a, altDay: b}
		if g[6] >= 0 {
			m.year = parseSmallInt(s[g[6]:g[7]])
			if m.year < 100 {
				m.year += 2000
			}
		}
		add(m)
	}
	for _, g := range reENWeekday.FindAllStringSubmatchIndex(s, -1) {
		if !weekdayIsPartOfDate(s, g[0], g[1]) {
			add(dateMention{start: g[0], end: g[1], weekday: weekdayNumber(s[g[2]:g[3]])})
		}
	}
	for _, g := range reZHWeekday.FindAllStringSubmatchIndex(s, -1) {
		if !weekdayIsPartOfDate(s, g[0], g[1]) {
			add(dateMention{start: g[0], end: g[1], weekday: weekdayNumber(s[g[4]:g[5]]), nextWeek: g[2] >= 0})
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].start < ms[j].start })
	return ms
}

// weekdayIsPartOfDate reports whether the weekday at s[i:j] names the day
// of a date right next to it ("Monday, 1 December", "12月1日（周二）").
func weekdayIsPartOfDate(s string, i, j int) bool {
	if reDateFollows.MatchString(s[j:min(len(s), j+24)]) {
		return true
	}
	before := strings.TrimRight(s[max(0, i-4):i], " \t")
	return strings.HasSuffix(before, "(") || strings.HasSuffix(before, "（")
}

// mentionSense reads the words around a mention.
func mentionSense(s string, m dateMention) dateSense {
	before := windowBefore(s, m.start, 80)
	after := windowAfter(s, m.end, 24)
	// Skip a weekday written right after the date in brackets.
	if loc := reWeekdayAfter.FindStringIndex(after); loc != nil {
		after = after[loc[1]:]
	}
	switch {
	case zhReturnAfter.MatchString(after):
		return senseOn
	case zhBeforeAfter.MatchString(after) && zhLeave.MatchString(after+before):
		return senseOn
	case zhThrough.MatchString(before) && zhLeave.MatchString(before+after):
		return senseThrough
	case enUntil.MatchString(before):
		return senseOn
	case enThrough.MatchString(before):
		return senseThrough
	case enTo.MatchString(before) && enLeave.MatchString(before):
		return senseThrough
	case enOn.MatchString(before):
		return senseOn
	}
	return senseNone
}

// windowBefore returns up to n bytes before i, from the last sentence
// break on (CJK punctuation and line ends; "." is left alone because of
// "Dec." and "a.m.").
func windowBefore(s string, i, n int) string {
	start := max(0, i-n)
	for start < i && !utf8RuneStart(s[start]) {
		start++
	}
	w := s[start:i]
	if k := strings.LastIndexAny(w, "。！？!?\n;；"); k >= 0 {
		w = w[k+1:]
	}
	return w
}

func windowAfter(s string, j, n int) string {
	end := min(len(s), j+n)
	for end > j && end < len(s) && !utf8RuneStart(s[end]) {
		end--
	}
	w := s[j:end]
	if k := strings.IndexAny(w, "。！？!?\n;；"); k >= 0 {
		w = w[:k]
	}
	return w
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// resolveMention turns a mention into a day, using ref for what the text
// leaves out.
func resolveMention(s string, m dateMention, ref time.Time) (time.Time, bool) {
	loc := time.UTC
	if !ref.IsZero() {
		loc = ref.Location()
	}
	if m.weekday != 0 {
		if ref.IsZero() {
			return time.Time{}, false
		}
		refDay := dayOf(ref, loc)
		cur := isoWeekday(refDay.Weekday())
		if m.nextWeek {
			monday := refDay.AddDate(0, 0, 1-cur)
			return monday.AddDate(0, 0, 7+m.weekday-1), true
		}
		d := (m.weekday - cur + 7) % 7
		if d == 0 {
			d = 7
		}
		return refDay.AddDate(0, 0, d), true
	}
	named := namedWeekday(s, m)
	cands := [][2]int{{m.month, m.day}}
	if m.altMonth != 0 {
		switch {
		case m.month > 12:
			cands = [][2]int{{m.altMonth, m.altDay}}
		case m.altMonth > 12 || m.altMonth == m.month:
		default:
			if named == 0 {
				return time.Time{}, false // "1/12": 1 December or January 12?
			}
			cands = append(cands, [2]int{m.altMonth, m.altDay})
		}
	}
	var found []time.Time
	for _, c := range cands {
		t, ok := resolveDay(m.year, c[0], c[1], ref, loc)
		if !ok {
			continue
		}
		if named != 0 && isoWeekday(t.Weekday()) != named {
			continue
		}
		found = append(found, t)
	}
	if len(found) != 1 {
		return time.Time{}, false
	}
	return found[0], true
}

func resolveDay(year, month, day int, ref time.Time, loc *time.Location) (time.Time, bool) {
	if month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, false
	}
	valid := func(t time.Time) bool { return int(t.Month()) == month && t.Day() == day }
	if year != 0 {
		t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, loc)
		return t, valid(t)
	}
	if ref.IsZero() {
		return time.Time{}, false
	}
	refDay := dayOf(ref, loc)
	t := time.Date(refDay.Year(), time.Month(month), day, 0, 0, 0, 0, loc)
	if !valid(t) {
		t = time.Date(refDay.Year()+1, time.Month(month), day, 0, 0, 0, 0, loc)
		return t, valid(t) && !t.Before(refDay)
	}
	if t.Before(refDay) {
		if refDay.Sub(t) <= 60*24*time.Hour {
			return time.Time{}, false // a stale auto-reply, or a past date
		}
		t = time.Date(refDay.Year()+1, time.Month(month), day, 0, 0, 0, 0, loc)
	}
	return t, valid(t)
}

// namedWeekday returns the weekday written next to a date mention, or 0.
func namedWeekday(s string, m dateMention) int {
	if g := reWeekdayBefore.FindStringSubmatch(windowBefore(s, m.start, 24)); g != nil {
		return weekdayNumber(g[1])
	}
	if g := reWeekdayAfter.FindStringSubmatch(windowAfter(s, m.end, 24)); g != nil {
		return weekdayNumber(g[1])
	}
	return 0
}

func dayOf(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

func isoWeekday(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

func weekdayNumber(s string) int {
	s = strings.TrimLeft(s, "周星期礼拜")
	switch {
	case strings.HasPrefix(s, "mon"), s == "一":
		return 1
	case strings.HasPrefix(s, "tue"), s == "二":
		return 2
	case strings.HasPrefix(s, "wed"), s == "三":
		return 3
	case strings.HasPrefix(s, "thu"), s == "四":
		return 4
	case strings.HasPrefix(s, "fri"), s == "五":
		return 5
	case strings.HasPrefix(s, "sat"), s == "六":
		return 6
	case strings.HasPrefix(s, "sun"), s == "日", s == "天":
		return 7
	}
	return 0
}

func monthNumber(s string) int {
	s = strings.ToLower(s)
	for i, p := range []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		if strings.HasPrefix(s, p) {
			return i + 1
		}
	}
	return 0
}

func parseSmallInt(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1e6 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// hanNumber reads 一 … 三十一.
func hanNumber(s string) int {
	digit := map[rune]int{'一': 1, '二': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	rs := []rune(s)
	switch {
	case len(rs) == 1 && rs[0] == '十':
		return 10
	case len(rs) == 1:
		return digit[rs[0]]
	case len(rs) == 2 && rs[0] == '十':
		return 10 + digit[rs[1]]
	case len(rs) == 2 && rs[1] == '十':
		return digit[rs[0]] * 10
	case len(rs) == 3 && rs[1] == '十':
		return digit[rs[0]]*10 + digit[rs[2]]
	}
	return 0
}
