package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const hookSecret = "0123456789abcdef0123456789abcdef"

func TestWebhooksAndMetricsParse(t *testing.T) {
	src := valid + `http:
  public_url: https://followup.acme.test
  secret_env: LINK_SECRET
  metrics: true
  metrics_token_env: METRICS_TOKEN
webhooks:
  - url: https://ats.acme.test/hooks/followup?token=abc
    secret_env: HOOK_SECRET
    events: [reply.received, unsubscribed]
  - url: http://127.0.0.1:9000/hook
    secret_env: HOOK_SECRET
    timeout: 3s
`
	c, ps := Parse("/etc/followup/followup.yaml", []byte(src), env(map[string]string{
		"SMTP_PW": "pw", "LINK_SECRET": hookSecret, "HOOK_SECRET": hookSecret, "METRICS_TOKEN": "a-long-enough-token",
	}))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if !c.HTTP.Metrics || c.HTTP.MetricsToken.Reveal() != "a-long-enough-token" {
		t.Errorf("metrics: %+v", c.HTTP)
	}
	if len(c.Webhooks) != 2 || c.Webhooks[0].Secret.Reveal() != hookSecret || len(c.Webhooks[0].Events) != 2 ||
		c.Webhooks[0].TimeoutD != 10*time.Second || c.Webhooks[1].TimeoutD != 3*time.Second {
		t.Errorf("webhooks: %+v", c.Webhooks)
	}
	for _, format := range []string{"%v", "%+v", "%#v"} {
		if out := fmt.Sprintf(format, c.Webhooks[0]) + fmt.Sprintf(format, c.HTTP); strings.Contains(out, hookSecret) || strings.Contains(out, "a-long-enough-token") {
			t.Errorf("%s prints a secret: %s", format, out)
		}
	}
}

func TestWebhookProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        map[string]string
		want       string // substring of the problem, with its line
	}{
		{"plain http to another host", "webhooks:\n  - url: http://ats.acme.test/hook\n    secret_env: HOOK\n", nil,
			"followup.yaml:13:10: url must be https"},
		{"not a url", "webhooks:\n  - url: ats\n    secret_env: HOOK\n", nil, ":13:10: url \"ats\" is not a URL"},
		{"unknown event", "webhooks:\n  - url: https://a.test/h\n    secret_env: HOOK\n    events: [message.sent, reply]\n", nil,
			":15:28: unknown event \"reply\""},
		{"no secret", "webhooks:\n  - url: https://a.test/h\n", nil, ":13:8: give the webhook signing secret one way"},
		{"short secret", "webhooks:\n  - url: https://a.test/h\n    secret_env: HOOK\n", map[string]string{"HOOK": "short"},
			":13:8: the webhook signing secret is 5 characters"},
		{"secret variable not set", "webhooks:\n  - url: https://a.test/h\n    secret_env: NOPE\n", nil,
			":14:17: environment variable NOPE is not set"},
		{"listed twice", "webhooks:\n  - url: https://a.test/h\n    secret_env: HOOK\n  - url: https://a.test/h\n    secret_env: HOOK\n", nil,
			":15:10: webhook url https://a.test/h is listed twice"},
		{"bad timeout", "webhooks:\n  - url: https://a.test/h\n    secret_env: HOOK\n    timeout: soon\n", nil, ":15:14: bad duration \"soon\""},
		{"metrics token without metrics", "http:\n  public_url: https://f.test\n  secret_env: HOOK\n  metrics_token_env: TOK\n",
			map[string]string{"TOK": "a-long-enough-token"}, ":15:22: metrics_token_env is set but metrics is not true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals := map[string]string{"SMTP_PW": "pw", "HOOK": hookSecret}
			for k, v := range tt.env {
				vals[k] = v
			}
			_, ps := Parse("/p/followup.yaml", []byte(valid+tt.yaml), env(vals))
			var all []string
			for _, p := range ps {
				all = append(all, p.String())
			}
			if len(ps) != 1 || !strings.Contains(all[0], tt.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", strings.Join(all, "\n"), tt.want)
			}
		})
	}
}

func TestLoopbackHTTPWebhookAllowed(t *testing.T) {
	for _, u := range []string{"http://localhost:8000/h", "http://127.0.0.1/h", "http://[::1]:9/h", "http://127.1.2.3/h"} {
		src := valid + "webhooks:\n  - url: " + u + "\n    secret_env: HOOK\n"
		if _, ps := Parse("/p/followup.yaml", []byte(src), env(map[string]string{"SMTP_PW": "pw", "HOOK": hookSecret})); len(ps) > 0 {
			t.Errorf("%s: %v", u, ps)
		}
	}
}
