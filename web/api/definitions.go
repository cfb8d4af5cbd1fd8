package api

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
