// Package web is Followup's HTTP server: the pages candidates reach from
// their emails (today the unsubscribe page and its RFC 8058 one-click POST)
// and /healthz for operators. A GET never changes anything: mail scanners
// such as Microsoft Safe Links open every link in a message.
package web
