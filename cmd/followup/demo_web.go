package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"followup/inbox"
	"followup/mailer"
	"followup/sequences"
	"followup/store"
	"followup/web"
	"followup/web/dashboard"
)

// demoLogin is the dashboard user the browser demo signs in as.
const demoLogin = "demo"

// demoWeb is what `followup demo` adds to the dashboard: a one-time
// sign-in link, the sandbox mailbox (every message the SMTP sandbox
// captured and every reply delivered to the recruiter's IMAP inbox), and
// "reply as the candidate", which delivers a real reply to that inbox so
// the inbox watcher reads it like any other.
type demoWeb struct {
	db        *store.DB
	smtp      *mailer.Sandbox
	imap      *inbox.Sandbox
	recruiter string // the recruiter's address (notes about replies go to it)
	clock     sequences.Clock
	speed     float64
	loc       *time.Location
	log       *slog.Logger
	dash      *dashboard.Dashboard // set once the route table is built

	mu        sync.Mutex
	key       string // the one-time sign-in key; "" once used
	delivered []demoDelivered
}

type demoDelivered struct {
	raw []byte
	at  time.Time
}

// deliver puts a raw message into the recruiter's IMAP inbox, as an MTA
// would, and keeps it for the mailbox page.
func (dw *demoWeb) deliver(raw string) error {
	if err := dw.imap.Deliver(raw); err != nil {
		return fmt.Errorf("delivering to the recruiter's sandbox inbox: %w", err)
	}
	dw.mu.Lock()
	dw.delivered = append(dw.delivered, demoDelivered{raw: []byte(raw), at: time.Now()})
	dw.mu.Unlock()
	return nil
}

// messages is the whole sandbox mailbox, newest first.
func (dw *demoWeb) messages() []demoMessage {
	var out []demoMessage
	for i, c := range dw.smtp.Messages() {
		m := decodeDemoMessage(c.Data)
		m.ID, m.At = "o"+strconv.Itoa(i+1), c.At
		out = append(out, m)
	}
	dw.mu.Lock()
	delivered := slices.Clone(dw.delivered)
	dw.mu.Unlock()
	for i, d := range delivered {
		m := decodeDemoMessage(d.raw)
		m.ID, m.At, m.Incoming = "i"+strconv.Itoa(i+1), d.at, true
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b demoMessage) int { return b.At.Compare(a.At) })
	return out
}

var demoMessageID = regexp.MustCompile(`^[oi][1-9][0-9]{0,8}$`)

func (dw *demoWeb) message(id string) (demoMessage, bool) {
	if !demoMessageID.MatchString(id) {
		return demoMessage{}, false
	}
	n, _ := strconv.Atoi(id[1:])
	var raw []byte
	var at time.Time
	if id[0] == 'o' {
		all := dw.smtp.Messages()
		if n > len(all) {
			return demoMessage{}, false
		}
		raw, at = all[n-1].Data, all[n-1].At
	} else {
		dw.mu.Lock()
		if n <= len(dw.delivered) {
			raw, at = dw.delivered[n-1].raw, dw.delivered[n-1].at
		}
		dw.mu.Unlock()
		if raw == nil {
			return demoMessage{}, false
		}
	}
	m := decodeDemoMessage(raw)
	m.ID, m.At, m.Incoming = id, at, id[0] == 'i'
	return m, true
}

// toCandidate: a message to someone else than the recruiter (not a note
// to the recruiter, not a reply); they can answer it when they are a
// stored candidate.
func (dw *demoWeb) toCandidate(m demoMessage) bool {
	return !m.Incoming && m.ToAddr != "" && m.ToAddr != dw.recruiter
}

// pages are the sandbox mailbox's routes, behind the dashboard's sign-in.
func (dw *demoWeb) pages() []dashboard.Page {
	return []dashboard.Page{
		{Path: "/demo/mail", Label: map[string]string{"zh": "沙箱邮箱", "en": "Sandbox mail"}, Handler: http.HandlerFunc(dw.list)},
		{Path: "/demo/mail/{id}", Handler: http.HandlerFunc(dw.show)},
		{Path: "/demo/mail/{id}/html", Handler: http.HandlerFunc(dw.htmlPart)},
		{Method: http.MethodPost, Path: "/demo/mail/{id}/reply", Handler: http.HandlerFunc(dw.reply)},
	}
}

// routes adds the one-time sign-in link, the demo's only public route.
func (dw *demoWeb) routes(mux web.Mux) {
	mux.HandleFunc("GET /demo/signin", dw.signIn)
}

// prepareSignIn creates the demo user with a random password and a
// one-time sign-in key; it returns the link to print and the password.
func (dw *demoWeb) prepareSignIn(ctx context.Context, base string) (link, password string, err error) {
	var pw, key [18]byte
	_, _ = rand.Read(pw[:])
	_, _ = rand.Read(key[:])
	password = base64.RawURLEncoding.EncodeToString(pw[:])
	hash, err := dashboard.HashPassword(password, 0)
	if err != nil {
		return "", "", err
	}
	if err := dw.db.AddUser(ctx, demoLogin, hash, "", time.Now()); err != nil {
		return "", "", fmt.Errorf("creating the demo user: %w", err)
	}
	dw.mu.Lock()
	dw.key = base64.RawURLEncoding.EncodeToString(key[:])
	dw.mu.Unlock()
	return base + "/demo/signin?key=" + dw.key, password, nil
}

// openBrowser asks the desktop to open link (only with demo --open).
func openBrowser(link string, log *slog.Logger) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", link)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", link)
	default:
		cmd = exec.Command("xdg-open", link)
	}
	if err := cmd.Start(); err != nil {
		log.Warn("could not open a browser; open the link yourself", "err", err)
		return
	}
	go func() { _ = cmd.Wait() }()
}

// signIn signs the browser in as the demo user once: the key is random,
// printed in the terminal, and forgotten on first use.
func (dw *demoWeb) signIn(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	key := r.URL.Query().Get("key")
	dw.mu.Lock()
	ok := dw.key != "" && subtle.ConstantTimeCompare([]byte(key), []byte(dw.key)) == 1
	if ok {
		dw.key = ""
	}
	dw.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_ = demoTemplates.ExecuteTemplate(w, "signin-used", nil)
		return
	}
	if err := dw.dash.StartSession(w, r, demoLogin); err != nil {
		dw.log.Error("demo sign-in", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/demo/mail", http.StatusSeeOther)
}

// frame draws a demo template inside the dashboard.
func (dw *demoWeb) frame(w http.ResponseWriter, r *http.Request, title, name string, data map[string]any) {
	data["T"] = demoTexts[dw.dash.Lang(r)]
	data["CSRF"] = dashboard.CSRFToken(r)
	var buf bytes.Buffer
	if err := demoTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		dw.log.Error("demo page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	dw.dash.Frame(w, r, title, template.HTML(buf.String())) // escaped by html/template above
}

func (dw *demoWeb) list(w http.ResponseWriter, r *http.Request) {
	t := demoTexts[dw.dash.Lang(r)]
	msgs := dw.messages()
	rows := make([]map[string]any, 0, len(msgs))
	for _, m := range msgs {
		dir := t["dirOut"]
		switch {
		case m.Incoming:
			dir = t["dirIn"]
		case !dw.toCandidate(m):
			dir = t["dirNote"]
		}
		rows = append(rows, map[string]any{"M": m, "Dir": dir, "When": dw.when(dw.arrived(m))})
	}
	dw.frame(w, r, t["mailTitle"], "list", map[string]any{
		"Rows": rows, "Now": dw.clock.Now().In(dw.loc).Format("2006-01-02 15:04 MST"), "Speed": speedText(dw.speed, dw.dash.Lang(r)),
	})
}

// arrived is when a message arrived on the demo's clock (a note to the
// recruiter is dated by the wall clock, the emails by the demo's).
func (dw *demoWeb) arrived(m demoMessage) time.Time {
	if sc, ok := dw.clock.(*sequences.ScaledClock); ok && !m.At.IsZero() {
		return sc.Start.Add(time.Duration(float64(m.At.Sub(sc.Origin)) * sc.Factor))
	}
	return m.Date
}

func (dw *demoWeb) when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(dw.loc).Format("2006-01-02 15:04 MST")
}

// candidateOf is the stored candidate a message went to, if any.
func (dw *demoWeb) candidateOf(ctx context.Context, m demoMessage) (*store.Timeline, error) {
	if !dw.toCandidate(m) {
		return nil, nil
	}
	tl, err := dw.db.Timeline(ctx, m.ToAddr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return tl, err
}

// zhFor: reply in the candidate's language, else in the message's.
func zhFor(tl *store.Timeline, m demoMessage) bool {
	if tl != nil && tl.Candidate.Language != "" {
		return strings.HasPrefix(strings.ToLower(tl.Candidate.Language), "zh")
	}
	return mostlyHan(m.Subject + m.Text)
}

func (dw *demoWeb) show(w http.ResponseWriter, r *http.Request) {
	m, ok := dw.message(r.PathValue("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	t := demoTexts[dw.dash.Lang(r)]
	tl, err := dw.candidateOf(r.Context(), m)
	if err != nil {
		dw.log.Error("demo mail", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	data := map[string]any{"M": m, "When": dw.when(m.Date), "CanReply": tl != nil, "Sent": "", "Candidate": nil}
	if k := r.URL.Query().Get("sent"); k != "" {
		data["Sent"] = t["sent."+k] // only known texts; nothing from the URL is shown
	}
	if tl != nil {
		zh := zhFor(tl, m)
		name := cmp.Or(tl.Candidate.Name, tl.Candidate.Email)
		var enr []map[string]string
		for _, e := range tl.Enrollments {
			enr = append(enr, map[string]string{"Sequence": e.Sequence, "Status": cmp.Or(t["st."+string(e.Status)], string(e.Status))})
		}
		data["Candidate"] = map[string]any{"ID": tl.Candidate.ID, "Name": name, "Enrollments": enr}
		data["ReplyText"] = demoReplyText(replyPerson, zh, tl.Candidate.Name, dw.clock.Now())
	}
	// The HTML part is shown in a frame from this site (see htmlPart).
	w.Header().Set("Content-Security-Policy", w.Header().Get("Content-Security-Policy")+"; frame-src 'self'")
	dw.frame(w, r, cmp.Or(m.Subject, t["noSubject"]), "show", data)
}

// htmlPart serves a message's HTML part for the frame of its page. The
// HTML is the message's own, not the dashboard's: the CSP sandbox gives it
// an origin of its own (no scripts, no cookies, no forms), only inline
// styles and embedded images load, and links open in a new tab.
func (dw *demoWeb) htmlPart(w http.ResponseWriter, r *http.Request) {
	m, ok := dw.message(r.PathValue("id"))
	if !ok || m.HTML == "" {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(withBaseTarget(m.HTML)))
}

var headTag = regexp.MustCompile(`(?i)<head(\s[^>]*)?>`)

// withBaseTarget makes the links of an HTML part open in a new tab.
func withBaseTarget(h string) string {
	const base = `<base target="_blank">`
	if loc := headTag.FindStringIndex(h); loc != nil {
		return h[:loc[1]] + base + h[loc[1]:]
	}
	return base + h
}

func (dw *demoWeb) reply(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m, ok := dw.message(id)
	if !ok || !dw.toCandidate(m) {
		http.NotFound(w, r)
		return
	}
	kind := demoReplyKind(r.PostFormValue("kind"))
	switch kind {
	case replyPerson, replyOutOfOffice, replyUnsubscribe:
	default:
		http.Error(w, "unknown kind of reply", http.StatusBadRequest)
		return
	}
	tl, err := dw.candidateOf(r.Context(), m)
	if err != nil {
		dw.log.Error("demo reply", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if tl == nil { // not a candidate's address
		http.NotFound(w, r)
		return
	}
	zh := zhFor(tl, m)
	now := dw.clock.Now()
	text := demoReplyText(kind, zh, m.ToName, now)
	if kind == replyPerson {
		text = strings.TrimSpace(r.PostFormValue("text"))
		if text == "" || len(text) > 10000 {
			http.Error(w, demoTexts[dw.dash.Lang(r)]["replyProblem"], http.StatusBadRequest)
			return
		}
	}
	raw, err := buildDemoReply(m, kind, text, zh, now)
	if err == nil {
		err = dw.deliver(raw)
	}
	if err != nil {
		dw.log.Error("demo reply", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/demo/mail/"+id+"?sent="+string(kind), http.StatusSeeOther)
}

// speedText says what the demo clock's speed means.
func speedText(speed float64, lang string) string {
	d := time.Duration(speed * float64(time.Second))
	type unit struct {
		d      time.Duration
		zh, en string
	}
	for _, u := range []unit{{24 * time.Hour, "天", "day"}, {time.Hour, "小时", "hour"}, {time.Minute, "分钟", "minute"}} {
		if d >= u.d && d%u.d == 0 {
			n := int(d / u.d)
			if lang == "zh" {
				return fmt.Sprintf("现实 1 秒 = 模拟 %d %s", n, u.zh)
			}
			return fmt.Sprintf("one real second is %d simulated %s%s", n, u.en, map[bool]string{true: "s"}[n != 1])
		}
	}
	if lang == "zh" {
		return fmt.Sprintf("现实 1 秒 = 模拟 %s", d)
	}
	return fmt.Sprintf("one real second is %s simulated", d)
}

var demoTexts = map[string]map[string]string{
	"zh": {
		"mailTitle": "沙箱邮箱",
		"mailIntro": "演示用的沙箱邮件服务器收到的每一封邮件（最新的在前）：发给候选人的邮件、发给招聘顾问的回复提醒，以及投递到招聘顾问收件箱的候选人回信。打开一封发给候选人的邮件，可以点击其中的链接（问卷可以直接填写），也可以“以候选人身份回复”：回信会投递到招聘顾问的 IMAP 沙箱收件箱，由真正的收件箱监视程序读取、分类，并停止这位候选人的序列。",
		"clock":     "模拟时钟", "refresh": "刷新", "empty": "还没有邮件：时钟走到第一封邮件的发送时间时，这里就会出现。",
		"time": "时间（模拟时钟）", "dir": "方向", "from": "发件人", "to": "收件人", "subject": "主题", "noSubject": "（无主题）",
		"dirOut": "→ 发给候选人", "dirNote": "→ 给招聘顾问的提醒", "dirIn": "← 候选人回信（收件箱）",
		"back": "← 返回沙箱邮箱", "date": "日期", "messageID": "Message-ID", "problem": "部分内容无法解码：",
		"timelineOf": "查看 %s 的时间线", "status": "所在序列",
		"links": "邮件中的链接", "linksHelp": "在新标签页打开；问卷链接可以直接作答。", "htmlPart": "HTML 正文（在沙箱中显示，不运行脚本）", "textPart": "纯文本正文", "noText": "（没有纯文本正文）",
		"replyTitle": "以候选人身份回复", "replyHelp": "回信会以候选人的邮箱发出（From 候选人，To 招聘顾问，带 In-Reply-To 和 References），投递到招聘顾问的 IMAP 沙箱收件箱。收件箱监视程序几秒内读到它，按真实规则分类：普通回复会停止序列，自动回复（休假）会把下一封推迟到回来之后，退订会停止并加入退订名单。",
		"replyText": "回信内容", "sendReply": "以候选人身份发送回复", "orAuto": "或者让候选人的邮箱：", "sendAuto": "发出休假自动回复", "sendUnsub": "回信要求退订",
		"replyProblem":     "回信内容不能为空，最长 10000 字节。",
		"sent.reply":       "回信已投递到招聘顾问的收件箱。收件箱监视程序几秒内会读到它，请看候选人的时间线。",
		"sent.auto":        "休假自动回复已投递到招聘顾问的收件箱：它会被识别为自动回复，下一封邮件推迟到候选人回来之后。",
		"sent.unsubscribe": "退订回信已投递到招聘顾问的收件箱：序列会停止，这个地址会加入退订名单。",
		"st.active":        "进行中", "st.paused": "已暂停", "st.stopped": "已停止", "st.finished": "已完成", "st.failed": "发送失败",
	},
	"en": {
		"mailTitle": "Sandbox mail",
		"mailIntro": "Every message the demo's sandbox mail server received, newest first: the emails to candidates, the notes to the recruiter about replies, and the candidates' replies delivered to the recruiter's inbox. Open an email to a candidate to follow its links (the surveys work) or to reply as the candidate: the reply is delivered to the recruiter's sandbox IMAP inbox, where the real inbox watcher reads it, classifies it and stops the candidate's sequences.",
		"clock":     "Simulated clock", "refresh": "Refresh", "empty": "No mail yet: it appears here when the clock reaches the first email's time.",
		"time": "Time (simulated clock)", "dir": "Direction", "from": "From", "to": "To", "subject": "Subject", "noSubject": "(no subject)",
		"dirOut": "→ to the candidate", "dirNote": "→ note to the recruiter", "dirIn": "← candidate's reply (inbox)",
		"back": "← Back to the sandbox mail", "date": "Date", "messageID": "Message-ID", "problem": "Part of this message could not be decoded: ",
		"timelineOf": "See %s's timeline", "status": "Sequences",
		"links": "Links in this email", "linksHelp": "They open in a new tab; survey links can be answered right away.", "htmlPart": "HTML part (shown in a sandbox, no scripts run)", "textPart": "Plain-text part", "noText": "(no plain-text part)",
		"replyTitle": "Reply as the candidate", "replyHelp": "The reply comes from the candidate's address (From the candidate, To the recruiter, with In-Reply-To and References) and is delivered to the recruiter's sandbox IMAP inbox. The inbox watcher reads it within seconds and classifies it with the real rules: a reply stops the sequence, an out-of-office auto-reply postpones the next email until the candidate is back, an unsubscribe request stops it and adds the address to the suppression list.",
		"replyText": "Reply", "sendReply": "Send the reply as the candidate", "orAuto": "Or let the candidate's mailbox:", "sendAuto": "Send an out-of-office auto-reply", "sendUnsub": "Reply asking to unsubscribe",
		"replyProblem":     "The reply cannot be empty and holds at most 10,000 bytes.",
		"sent.reply":       "The reply was delivered to the recruiter's inbox. The inbox watcher reads it within seconds: see the candidate's timeline.",
		"sent.auto":        "The out-of-office auto-reply was delivered to the recruiter's inbox: it is recognised as automatic, and the next email waits until the candidate is back.",
		"sent.unsubscribe": "The unsubscribe request was delivered to the recruiter's inbox: the sequences stop and the address goes on the suppression list.",
		"st.active":        "active", "st.paused": "paused", "st.stopped": "stopped", "st.finished": "finished", "st.failed": "failed",
	},
}

var demoTemplates = template.Must(template.New("demo").Parse(`
{{define "signin-used"}}<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Followup demo</title></head>
<body>
<p>这个一次性登录链接已经用过或不对。如果这个浏览器已经登录，请直接打开 <a href="/demo/mail">沙箱邮箱</a>；否则请用终端里打印的用户名和密码<a href="/login?next=%2Fdemo%2Fmail">登录</a>。</p>
<p lang="en">This one-time sign-in link was already used or is wrong. If this browser is signed in, open the <a href="/demo/mail">sandbox mail</a>; otherwise <a href="/login?next=%2Fdemo%2Fmail">sign in</a> with the login and password printed in the terminal.</p>
</body></html>{{end}}

{{define "list"}}<p class="hint">{{.T.mailIntro}}</p>
<p>{{.T.clock}}: <strong>{{.Now}}</strong> <span class="muted">({{.Speed}})</span> · <a href="/demo/mail">{{.T.refresh}}</a></p>
{{if .Rows}}<table class="list" id="demo-mail">
<thead><tr><th>{{.T.time}}</th><th>{{.T.dir}}</th><th>{{.T.from}}</th><th>{{.T.to}}</th><th>{{.T.subject}}</th></tr></thead>
<tbody>
{{range .Rows}}<tr>
<td>{{.When}}</td><td>{{.Dir}}</td><td>{{.M.From}}</td><td>{{.M.To}}</td>
<td><a href="/demo/mail/{{.M.ID}}">{{if .M.Subject}}{{.M.Subject}}{{else}}{{$.T.noSubject}}{{end}}</a></td>
</tr>
{{end}}</tbody>
</table>{{else}}<p class="muted">{{.T.empty}}</p>{{end}}{{end}}

{{define "show"}}<p><a href="/demo/mail">{{.T.back}}</a></p>
{{with .Sent}}<p class="flash" role="status">{{.}}{{with $.Candidate}} <a href="/candidates/{{.ID}}">{{printf $.T.timelineOf .Name}}</a>{{end}}</p>{{end}}
<div class="card">
<dl class="answers">
<dt>{{.T.from}}</dt><dd>{{.M.From}}</dd>
<dt>{{.T.to}}</dt><dd>{{.M.To}}</dd>
<dt>{{.T.subject}}</dt><dd class="subject">{{.M.Subject}}</dd>
<dt>{{.T.date}}</dt><dd>{{.When}}</dd>
<dt>{{.T.messageID}}</dt><dd class="muted">{{.M.MessageID}}</dd>
{{with .Candidate}}<dt>{{$.T.status}}</dt><dd>{{range .Enrollments}}{{.Sequence}}: <strong>{{.Status}}</strong><br>{{end}}<a href="/candidates/{{.ID}}">{{printf $.T.timelineOf .Name}}</a></dd>{{end}}
</dl>
{{with .M.Problem}}<p class="error">{{$.T.problem}}{{.}}</p>{{end}}
</div>
{{if .CanReply}}<section class="card" id="reply">
<h2>{{.T.replyTitle}}</h2>
<p class="hint">{{.T.replyHelp}}</p>
<form method="post" action="/demo/mail/{{.M.ID}}/reply" class="stack">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>{{.T.replyText}}<textarea name="text" rows="7" maxlength="10000" required>{{.ReplyText}}</textarea></label>
<button type="submit" name="kind" value="reply">{{.T.sendReply}}</button>
</form>
<form method="post" action="/demo/mail/{{.M.ID}}/reply" class="inline">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<span class="muted">{{.T.orAuto}}</span>
<button type="submit" class="secondary small" name="kind" value="auto">{{.T.sendAuto}}</button>
<button type="submit" class="secondary small" name="kind" value="unsubscribe">{{.T.sendUnsub}}</button>
</form>
</section>{{end}}
{{if .M.Links}}<h2>{{.T.links}}</h2>
<p class="hint">{{.T.linksHelp}}</p>
<ul class="links">{{range .M.Links}}<li><a href="{{.URL}}" target="_blank" rel="noopener noreferrer">{{if .Text}}{{.Text}}{{else}}{{.URL}}{{end}}</a>{{if .Text}} <span class="muted">{{.URL}}</span>{{end}}</li>
{{end}}</ul>{{end}}
{{if .M.HTML}}<h2>{{.T.htmlPart}}</h2>
<iframe class="mail" src="/demo/mail/{{.M.ID}}/html" sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" title="{{.T.htmlPart}}"></iframe>{{end}}
<h2>{{.T.textPart}}</h2>
{{if .M.Text}}<pre class="body">{{.M.Text}}</pre>{{else}}<p class="muted">{{.T.noText}}</p>{{end}}
{{end}}
`))
