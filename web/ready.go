package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// ReadyCheck is one thing /readyz looks at. Check returns "" when it is
// fine, else a short reason shown in the response (no secrets, no host
// names: "not connected", "not answering").
type ReadyCheck struct {
	Name  string // "database", "imap:wangmin", "smtp:wangmin"
	Check func(ctx context.Context) string
}

// Readiness answers 200 when every check passes and 503 otherwise, with a
// small JSON body naming what is not ready:
//
//	{"ready":false,"not_ready":{"imap:wangmin":"not connected"}}
//
// Each check gets at most timeout.
func Readiness(checks []ReadyCheck, timeout time.Duration, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		body := struct {
			Ready    bool              `json:"ready"`
			NotReady map[string]string `json:"not_ready,omitempty"`
		}{Ready: true}
		for _, c := range checks {
			if why := c.Check(ctx); why != "" {
				if body.NotReady == nil {
					body.NotReady = map[string]string{}
				}
				body.NotReady[c.Name] = why
				body.Ready = false
			}
		}
		code := http.StatusOK
		if !body.Ready {
			code = http.StatusServiceUnavailable
			log.Debug("not ready", "not_ready", body.NotReady)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	})
}
