package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"followup/internal/yamlfile"
	"followup/webhooks"
)

// Webhook is one receiver of signed event notifications.
type Webhook struct {
	URL        string   `yaml:"url"`         // https, except on a loopback host
	SecretEnv  string   `yaml:"secret_env"`  // signs the deliveries; at least 32 characters
	SecretFile string   `yaml:"secret_file"` //
	Events     []string `yaml:"events"`      // types to send; empty: all
	Timeout    string   `yaml:"timeout"`     // per attempt; default 10s

	Secret   Secret        `yaml:"-"`
	TimeoutD time.Duration `yaml:"-"`
}

func validateWebhooks(doc *yamlfile.Doc, hooks []*Webhook, rel func(string) string, getenv func(string) string, o Options) yamlfile.Problems {
	var ps yamlfile.Problems
	seen := map[string]bool{}
	for i, h := range hooks {
		path := fmt.Sprintf("$.webhooks[%d]", i)
		u, err := url.Parse(h.URL)
		switch {
		case h.URL == "":
			ps = append(ps, doc.Problemf(path, "webhook url is missing (e.g. https://ats.example.com/hooks/followup)"))
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			ps = append(ps, doc.Problemf(path+".url", "url %q is not a URL such as https://ats.example.com/hooks/followup", h.URL))
		case u.Scheme != "https" && !loopback(u.Hostname()):
			ps = append(ps, doc.Problemf(path+".url", "url must be https (http only to this machine: localhost, 127.0.0.1, ::1)"))
		case seen[h.URL]:
			ps = append(ps, doc.Problemf(path+".url", "webhook url %s is listed twice", webhooks.Redact(h.URL)))
		}
		seen[h.URL] = true
		for j, e := range h.Events {
			if !oneOf(e, webhooks.Types...) {
				ps = append(ps, doc.Problemf(fmt.Sprintf("%s.events[%d]", path, j), "unknown event %q (events: %s)", e, strings.Join(webhooks.Types, ", ")))
			}
		}
		if h.Timeout == "" {
			h.Timeout = "10s"
		}
		if d, err := time.ParseDuration(h.Timeout); err != nil || d <= 0 {
			ps = append(ps, doc.Problemf(path+".timeout", "bad duration %q (e.g. 10s)", h.Timeout))
		} else {
			h.TimeoutD = d
		}
		secret, sps := readSecret(doc, path, h.SecretEnv, h.SecretFile, "webhook signing secret", rel, getenv, o)
		ps = append(ps, sps...)
		h.Secret = secret
	}
	return ps
}

// readSecret reads a secret of at least 32 characters given one way:
// secret_env or secret_file under path.
func readSecret(doc *yamlfile.Doc, path, env, file, what string, rel func(string) string, getenv func(string) string, o Options) (Secret, yamlfile.Problems) {
	var ps yamlfile.Problems
	var secret string
	switch {
	case (env == "") == (file == ""):
		ps = append(ps, doc.Problemf(path, "give the %s one way: secret_env or secret_file (at least 32 random characters: openssl rand -hex 32)", what))
	case env != "":
		secret = getenv(env)
		if secret == "" && !o.SkipSecrets {
			ps = append(ps, doc.Problemf(path+".secret_env", "environment variable %s is not set (it should hold the %s)", env, what))
		}
	default:
		b, err := os.ReadFile(rel(file))
		if err != nil && !o.SkipSecrets {
			ps = append(ps, doc.Problemf(path+".secret_file", "reading the %s: %v", what, err))
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret != "" && len(secret) < 32 {
		ps = append(ps, doc.Problemf(path, "the %s is %d characters; use at least 32 (openssl rand -hex 32)", what, len(secret)))
	}
	return Secret(secret), ps
}

// validateMetrics checks the /metrics settings of the http section.
func (h *HTTP) validateMetrics(doc *yamlfile.Doc, getenv func(string) string, o Options) yamlfile.Problems {
	var ps yamlfile.Problems
	if h.MetricsTokenEnv == "" {
		return nil
	}
	if !h.Metrics {
		ps = append(ps, doc.Problemf("$.http.metrics_token_env", "metrics_token_env is set but metrics is not true"))
	}
	tok := getenv(h.MetricsTokenEnv)
	if tok == "" && !o.SkipSecrets {
		ps = append(ps, doc.Problemf("$.http.metrics_token_env", "environment variable %s is not set (it should hold the token Prometheus sends)", h.MetricsTokenEnv))
	}
	if tok != "" && len(tok) < 16 {
		ps = append(ps, doc.Problemf("$.http.metrics_token_env", "the metrics token is %d characters; use at least 16 (openssl rand -hex 32)", len(tok)))
	}
	h.MetricsToken = Secret(tok)
	return ps
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
