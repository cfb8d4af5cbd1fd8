package inbox

import (
	"regexp"
	"strings"
	"unicode"
)

// StripQuoted returns the words the sender wrote in text, without the
// history their client quoted and without their signature:
//
//   - From the first history separator on, everything goes: Outlook's
//     "-----Original Message-----" (and its zh "-----原始邮件-----", de, fr,
//     es, ja variants), QQ Mail / Foxmail "------------------ 原始邮件
//     ------------------" and "------------------ Original
//     ------------------", forwarded-message separators, an Outlook header
//     block ("From: … Sent: … To: … Subject: …", "发件人: … 发送时间: …
//     收件人: … 主题: …", Big5 "寄件者: … 寄件日期: …", ja "差出人: … 送信日時:
//     …") with the "____" rule that Outlook puts above it, and an
//     attribution line ("On … wrote:", also wrapped over up to three lines,
//     "在 … 写道：", "… 于 … 写道：", "Am … schrieb …:", "Le … a écrit :")
//     when no ">"-quoted block follows it.
//   - Lines quoted with ">" are removed; an attribution line directly
//     followed by such a block is removed with it; a line right after a
//     long quoted line with no blank line between is taken as that line's
//     wrapped continuation. Unquoted lines between quoted blocks are kept:
//     an answer written inline or below the quote survives.
//   - A trailing signature after "-- " (RFC 3676 §4.3; also "--" as
//     clients that strip trailing spaces send it) and trailing mobile
//     footers ("Sent from my iPhone", "发自我的iPhone", "Get Outlook for
//     iOS", "发自网易邮箱大师", …) are dropped.
//
// The sender's own lines are kept as written, blank lines included;
// trailing white space is trimmed from each line and from the whole.
func StripQuoted(text string) string {
	lines := strings.Split(normalizeNewlines(text), "\n")
	drop := make([]bool, len(lines))

	cut := len(lines)
scan:
	for i := 0; i < len(lines); i++ {
		if isQuotedLine(lines[i]) {
			continue
		}
		if isHistorySeparator(lines, i) {
			cut = i
			break
		}
		if end, ok := attribution(lines, i); ok {
			next := end + 1
			for next < len(lines) && strings.TrimSpace(lines[next]) == "" {
				next++
			}
			if next < len(lines) && isQuotedLine(lines[next]) {
				for k := i; k <= end; k++ {
					drop[k] = true
				}
				i = end
				continue scan
			}
			cut = i
			break
		}
	}

	var kept []string
	inQuote, lastLong, removed := false, false, false
	for i := 0; i < cut; i++ {
		line := strings.TrimRightFunc(lines[i], unicode.IsSpace)
		if drop[i] {
			removed = true
			continue
		}
		if isQuotedLine(line) {
			inQuote, lastLong, removed = true, len([]rune(line)) >= 60, true
			continue
		}
		if inQuote && lastLong && line != "" {
			// A quoted line wrapped by the client without its ">".
			lastLong = len([]rune(line)) >= 60
			continue
		}
		inQuote = false
		if line == "" && removed && len(kept) > 0 && kept[len(kept)-1] == "" {
			continue // don't leave a double blank line where a quote was cut
		}
		removed = false
		kept = append(kept, line)
	}

	kept = trimBlankLines(kept)
	for {
		n := len(kept)
		kept = trimBlankLines(stripSignature(kept))
		for len(kept) > 0 && isMobileFooter(kept[len(kept)-1]) {
			kept = trimBlankLines(kept[:len(kept)-1])
		}
		if len(kept) == n {
			break
		}
	}
	return strings.Join(kept, "\n")
}

func isQuotedLine(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " \t"), ">")
}

func trimBlankLines(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// separatorLine matches lines that begin quoted or forwarded history on
// their own: Outlook ("-----Original Message-----" and localised forms),
// QQ Mail / Foxmail ("------------------ 原始邮件 ------------------",
// "------------------ Original ------------------"), NetEase
// ("-----原始邮件-----"), Gmail and Apple Mail forwards.
var separatorLine = regexp.MustCompile(`(?i)^[ \t]*(?:-{2,}[ \t]*(?:original message|original|原始邮件|原始郵件|邮件原件|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|forwarded message|转发的邮件|轉寄的郵件|転送メッセージ|元のメッセージ)[ \t]*-{2,}|begin forwarded message:|开始转发的邮件[:：])[ \t]*$`)

// outlookRule is the line of underscores Outlook (web, mobile, plain text)
// puts above its header block.
var outlookRule = regexp.MustCompile(`^[ \t]*_{10,}[ \t]*$`)

var (
	hdrFrom    = regexp.MustCompile(`(?i)^[ \t]*\*?(?:from|发件人|發件人|寄件者|差出人|von|de|van|od)[ \t]*\*?[ \t]*[:：]`)
	hdrDate    = regexp.MustCompile(`(?i)^[ \t]*\*?(?:sent|date|发送时间|發送時間|时间|時間|日期|寄件日期|送信日時|gesendet|datum|envoyé|enviado|data)[ \t]*\*?[ \t]*[:：]`)
	hdrTo      = regexp.MustCompile(`(?i)^[ \t]*\*?(?:to|收件人|收件者|宛先|an|à|para|a)[ \t]*\*?[ \t]*[:：]`)
	hdrSubject = regexp.MustCompile(`(?i)^[ \t]*\*?(?:subject|主题|主題|主旨|件名|betreff|objet|asunto|oggetto)[ \t]*\*?[ \t]*[:：]`)
)

// isHistorySeparator reports whether line i starts quoted history that
// continues to the end: a separator line, an Outlook "____" rule followed
// by a header block, or the header block itself (a From line with a date
// line and a To or Subject line among the next six lines).
func isHistorySeparator(lines []string, i int) bool {
	if separatorLine.MatchString(lines[i]) {
		return true
	}
	if outlookRule.MatchString(lines[i]) {
		for j := i + 1; j < len(lines) && j <= i+3; j++ {
			if strings.TrimSpace(lines[j]) == "" {
				continue
			}
			return isHeaderBlock(lines, j)
		}
		return false
	}
	return isHeaderBlock(lines, i)
}

func isHeaderBlock(lines []string, i int) bool {
	if !hdrFrom.MatchString(lines[i]) {
		return false
	}
	date, rest := false, false
	for j := i + 1; j < len(lines) && j <= i+6; j++ {
		switch l := lines[j]; {
		case hdrDate.MatchString(l):
			date = true
		case hdrTo.MatchString(l), hdrSubject.MatchString(l):
			rest = true
		}
	}
	return date && rest
}

var (
	// Gmail, Thunderbird, Apple Mail, Outlook for Mac (RFC-less convention):
	// "On Mon, Nov 23, 2026 at 10:00 AM Wang Min <wangmin@acme.test> wrote:".
	attribEN = regexp.MustCompile(`(?is)^(?:on|le|el|il)\b.{4,300}(?:wrote|a écrit|escribió|ha scritto)[ \t]*[:：]$`)
	// German and Dutch put the name after the verb: "Am 23.11.2026 um
	// 10:00 schrieb Wang Min <…>:".
	attribDE = regexp.MustCompile(`(?is)^(?:am|op)\b.{4,200}\b(?:schrieb|schreef)\b.{0,200}[:：]$`)
	// NetEase, QQ, Apple Mail and Gmail in Chinese: "在 2026-11-23 10:00:00，
	// "Wang Min" <…> 写道：", "Wang Min <…> 于2026年11月23日周一 10:00写道：".
	attribZH = regexp.MustCompile(`(?s)^.{0,300}(?:写道|寫道|写了|寫了)[ \t]*[:：]$`)
	// Any "… <address> wrote:" (Thunderbird without date, Japanese
	// "…さんは書きました:"); only taken when the line names an address.
	attribAny = regexp.MustCompile(`(?s)^.{4,300}(?:書きました|wrote)[ \t]*[:：]$`)
	hasDigit  = regexp.MustCompile(`[0-9０-９]`)
)

// attribution reports whether an attribution line starts at line i and on
// which line it ends (clients wrap long ones over up to three lines).
func attribution(lines []string, i int) (end int, ok bool) {
	first := strings.TrimSpace(lines[i])
	if first == "" {
		return 0, false
	}
	joined := ""
	for k := 0; k < 3 && i+k < len(lines); k++ {
		l := strings.TrimSpace(lines[i+k])
		if l == "" {
			break
		}
		if k == 0 {
			joined = l
		} else {
			joined += " " + l
		}
		if len(joined) > 400 {
			break
		}
		if !strings.HasSuffix(joined, ":") && !strings.HasSuffix(joined, "：") {
			continue // every attribution form ends with a colon
		}
		switch {
		case (attribEN.MatchString(joined) || attribDE.MatchString(joined)) && (hasDigit.MatchString(joined) || strings.Contains(joined, "@")):
			return i + k, true
		case attribZH.MatchString(joined) && (hasDigit.MatchString(joined) || strings.Contains(joined, "@")):
			return i + k, true
		case attribAny.MatchString(joined) && strings.Contains(joined, "@"):
			return i + k, true
		}
	}
	return 0, false
}

// stripSignature cuts at the last signature separator line when what
// follows is short enough to be a signature.
func stripSignature(lines []string) []string {
	for i := len(lines) - 1; i >= 0; i-- {
		if l := lines[i]; l == "--" || l == "-- " {
			if len(lines)-i <= 15 {
				return lines[:i]
			}
			return lines
		}
	}
	return lines
}

// mobileFooter matches the one-line footers phones and webmail add.
var mobileFooter = regexp.MustCompile(`(?i)^[ \t]*(?:sent from my [\p{L}\p{N} ._'-]{1,40}|sent from (?:outlook|mail|yahoo mail|gmail|my mobile)[\p{L}\p{N} ._'-]{0,40}|sent via [\p{L}\p{N} ._'-]{1,30}|get outlook for (?:ios|android)|envoyé de mon [\p{L}\p{N} ._'-]{1,30}|von meinem [\p{L}\p{N} ._'-]{1,30} gesendet|发自我的[\p{L}\p{N} ._'-]{1,20}|發自我的[\p{L}\p{N} ._'-]{1,20}|从我的[\p{L}\p{N} ._'-]{1,20}发送|發自網易郵箱大師|发自网易邮箱大师|发自网易邮箱|发自手机QQ邮箱|来自手机QQ邮箱|发自QQ邮箱(?:手机版)?|发自\s?(?:iPhone|iPad|Android|华为|小米|vivo|OPPO)[\p{L}\p{N} ._'-]{0,20}|发自\s?Foxmail|iPhoneから送信|ウェブメールから送信)[ \t]*$`)

func isMobileFooter(line string) bool {
	return mobileFooter.MatchString(line)
}
