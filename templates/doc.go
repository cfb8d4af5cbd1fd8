// Package templates turns a recruiter's Markdown email templates into the
// parts of a multipart/alternative message: a subject, a plain-text part and
// an HTML part with a clean, inline-styled, mobile-friendly layout.
//
// A template is a Markdown file with YAML front matter:
//
//	---
//	subject: "关于{{.job_title}}面试的反馈"
//	---
//	{{.name}}，您好：
//
// Merge fields use Go's text/template syntax. Candidate data is data: values
// are inserted literally in both parts and never interpreted as Markdown or
// HTML, and a value containing CR or LF can never reach a header.
//
// Files are named NAME.LANG.md (rejected-feedback.zh-CN.md,
// rejected-feedback.en.md); a step names the template by NAME and the
// candidate's language picks the file.
package templates
