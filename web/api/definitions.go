package api

import "strings"

// DefinitionsIn gives the definitions in "zh" or "en".
func DefinitionsIn(lang string) map[string]string {
	if shortLang(lang) == "zh" {
		return definitionsZH
	}
	return Definitions
}

func shortLang(l string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(l)), "zh") {
		return "zh"
	}
	return "en"
}

// Definitions say how each metric is computed (docs/METRICS.md says more).
// The dashboard shows them next to the numbers.
var Definitions = map[string]string{
	"reply_rate":      "Enrollments in which the candidate answered in person (a reply or a \"not interested\"; auto-replies and bounces do not count) ÷ enrollments that were sent at least one email. Per step: answers that came after that step and before the next one ÷ emails sent at that step.",
	"first_reply":     "Hours from an enrollment's first email to the candidate's first answer in person: the median and the 90th percentile of enrollments that got an answer.",
	"feedback_cycle":  "Hours from the event in an enrollment field (interview_date by default; a date without a time counts from the end of that day) to the first email sent about it: median, 90th percentile, and the share followed up within 24 hours.",
	"nps":             "Net Promoter Score of the nps survey: % promoters (9–10) − % detractors (0–6), from −100 to 100, for the months of the period.",
	"decline_reasons": "Reasons chosen in the declined-offer survey, most frequent first, for the months of the period.",
	"talent_pool":     "Talent-pool activation rate: candidates mailed by a talent-pool sequence (one with requires_consent) who answered it, or were enrolled in another sequence afterwards (they re-entered a process) ÷ candidates mailed by a talent-pool sequence.",
	"sources":         "Per source: the enrollment's source or channel field when the ATS or the CSV gave one, otherwise how the candidate was enrolled (api, cli, import, dashboard). Enrolled, contacted (≥ 1 email sent), replied, and replied ÷ contacted.",
	"steps":           "Per sequence and step: emails sent in the period, and the replies, bounces and unsubscribe/complaint emails that came after that step and before the next one.",
	"tracking":        "Only when open/click tracking is on (http.tracking; off by default). Estimates: tracked messages opened (the image was fetched) or clicked by a person ÷ tracked messages sent. Fetches by Apple Mail's privacy prefetch, security scanners, link previews, HEAD requests, and anything within 10 seconds of sending are left out; Gmail's image proxy counts. Some people block images, so opens are undercounted too.",
	"period":          "Enrollments created, and emails sent, from the first day to the last day of the period inclusive, in the company's time zone.",
}

var definitionsZH = map[string]string{
	"reply_rate":      "候选人本人回复（回复或“不感兴趣”；自动回复和退信不算）的报名数 ÷ 至少发出一封邮件的报名数。按步骤：这一步发出后、下一步发出前收到的回复 ÷ 这一步发出的邮件数。",
	"first_reply":     "从一次报名的第一封邮件到候选人本人第一次回复的小时数：有回复的报名的中位数和第 90 百分位。",
	"feedback_cycle":  "反馈周期：从报名字段里的事件时间（默认 interview_date；只有日期时从当天结束算起）到就此发出的第一封邮件的小时数：中位数、第 90 百分位，以及 24 小时内跟进的比例。",
	"nps":             "nps 问卷的净推荐值：推荐者（9–10 分）占比 − 贬损者（0–6 分）占比，范围 −100 到 100，按统计期涉及的月份计算。",
	"decline_reasons": "拒绝 Offer 问卷中选择的原因，按次数从多到少，按统计期涉及的月份计算。",
	"talent_pool":     "人才库激活率：人才库序列（requires_consent）发过邮件的候选人中，回复了、或之后进入了其他序列（重新进入招聘流程）的人数 ÷ 人才库序列发过邮件的候选人数。",
	"sources":         "渠道转化：报名里 ATS 或 CSV 给出的 source（或 channel）字段，没有时按加入方式（api、cli、import、dashboard）。已加入、已联系（至少发出一封）、已回复，以及已回复 ÷ 已联系。",
	"steps":           "每个序列的每一步：统计期内发出的邮件，以及这一步之后、下一步之前收到的回复、退信和退订/投诉邮件。",
	"tracking":        "仅在开启打开/点击追踪时（http.tracking，默认关闭）。均为估算：被本人打开（加载了图片）或点击的追踪邮件 ÷ 发出的追踪邮件。Apple 邮件的隐私预加载、安全网关扫描、链接预览、HEAD 请求以及发出 10 秒内的访问都不计入；Gmail 图片代理计入。有人屏蔽图片，所以打开数也会偏低。",
	"period":          "统计期：从第一天到最后一天（含），按公司时区，期间创建的报名和发出的邮件。",
}
