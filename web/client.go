package web

import "net/http"

// ClientAddr is the address a request comes from, as the survey rate
// limits see it (behind a local reverse proxy, the address the proxy saw):
// for other rate limits, such as the dashboard's sign-in.
func ClientAddr(r *http.Request) string { return clientAddr(r) }
