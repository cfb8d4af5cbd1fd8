package config

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const valid = `company: Acme
language: zh_cn
mailboxes:
  - name: wangmin
    from: "王敏 <wangmin@acme.test>"
    signature: "王敏 · {{.company}}"
    smtp:
      host: smtp.acme.test
      port: 465
      username: wangmin@acme.test
      password_env: SMTP_PW
`

func env(vals map[string]string) func(string) string {
	return func(k string) string { return vals[k] }
}

func TestParseValidAppliesDefaults(t *testing.T) {
	c, ps := Parse("/etc/followup/followup.yaml", []byte(valid), env(map[string]string{"SMTP_PW": "s3cret"}))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	m := c.Mailboxes[0]
	if c.Language != "zh-CN" || c.Timezone != "Asia/Shanghai" || c.Database.Path != "/etc/followup/followup.db" {
		t.Errorf("defaults: %q %q %q", c.Language, c.Timezone, c.Database.Path)
	}
	if m.SMTP.TLS != "implicit" || m.SMTP.TimeoutD.Seconds() != 30 || m.Address.Name != "王敏" || m.Sig == nil {
		t.Errorf("mailbox: %+v", m.SMTP)
	}
	if m.SMTP.Password.Reveal() != "s3cret" {
		t.Error("password not resolved from the environment")
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, c.Mailboxes[0]); strings.Contains(out, "s3cret") {
			t.Errorf("%s prints the password: %s", format, out)
		}
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	bad := `compnay: Acme
timezone: Mars/Olympus
mailboxes:
  - name: Wang Min
    from: "not an address"
    smtp:
      port: 99999
      tls: ssl
      timeout: soon
      username: x
      password_env: UNSET_VAR
  - name: two
    from: b@acme.test
    smtp:
      host: h
      password: a
      password_file: b
sending:
  retry:
    initial: forever
log:
  level: loud
`
	_, ps := Parse("f.yaml", []byte(bad), env(nil))
	want := []string{
		`f.yaml:1:1: unknown key "compnay"`,
		`f.yaml:2:11: unknown time zone "Mars/Olympus"`,
		`f.yaml:4:11: mailbox name "Wang Min"`,
		`f.yaml:5:11: from "not an address"`,
		`f.yaml:7:11: smtp.host is missing`,
		`f.yaml:7:13: port 99999`,
		`f.yaml:8:12: tls "ssl"`,
		`f.yaml:9:16: bad duration "soon"`,
		`f.yaml:11:21: environment variable UNSET_VAR is not set`,
		`f.yaml:15:11: give the password one way only`,
		`f.yaml:20:14: bad duration "forever"`,
		`f.yaml:22:10: log level "loud"`,
	}
	if len(ps) != len(want) {
		t.Errorf("%d problems, want %d", len(ps), len(want))
	}
	ps.Sort()
	got := make([]string, len(ps))
	for i, p := range ps {
		got[i] = p.String()
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if strings.HasPrefix(g, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("missing problem %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

func TestPasswordFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(valid, "password_env: SMTP_PW", "password_file: pw", 1)
	c, ps := Parse(filepath.Join(dir, "followup.yaml"), []byte(cfg), env(nil))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if c.Mailboxes[0].SMTP.Password.Reveal() != "from-file" {
		t.Errorf("password %q", c.Mailboxes[0].SMTP.Password.Reveal())
	}
}

func TestMissingFile(t *testing.T) {
	_, ps := Load(filepath.Join(t.TempDir(), "nope.yaml"), env(nil))
	if len(ps) != 1 || !strings.Contains(ps[0].Msg, "followup init") {
		t.Errorf("%v", ps)
	}
}

func TestIMAPDefaultsToTheSMTPLogin(t *testing.T) {
	cfg := valid + "    imap:\n      host: imap.acme.test\n"
	c, ps := Parse("f.yaml", []byte(cfg), env(map[string]string{"SMTP_PW": "pw"}))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	im := c.Mailboxes[0].IMAP
	if im.Port != 143 || im.TLS != "starttls" || im.Folder != "INBOX" || im.PollD.Minutes() != 1 ||
		im.Username != "wangmin@acme.test" || im.Password.Reveal() != "pw" {
		t.Errorf("imap defaults: %+v", im)
	}
	_, ps = Parse("f.yaml", []byte(valid+"    imap:\n      host: h\n      port: 993\n      poll: 0s\n      folders: x\n"), env(map[string]string{"SMTP_PW": "pw"}))
	if len(ps) != 2 || !strings.Contains(ps[0].String()+ps[1].String(), `unknown key "folders"`) {
		t.Errorf("problems: %v", ps)
	}
}

func TestDKIMKeyAndSelector(t *testing.T) {
	dir := t.TempDir()
	_, key, _ := ed25519.GenerateKey(nil)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	good := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	os.WriteFile(filepath.Join(dir, "dkim.pem"), good, 0o600)
	os.WriteFile(filepath.Join(dir, "bad.pem"), []byte("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n"), 0o600)
	tests := []struct {
		dkim string
		want string
	}{
		{"    dkim: {selector: s2026, private_key_file: dkim.pem}\n", ""},
		{"    dkim: {selector: \"bad selector\", private_key_file: dkim.pem}\n", `selector "bad selector"`},
		{"    dkim: {selector: s1, private_key_file: bad.pem}\n", "the DKIM private key does not parse"},
		{"    dkim: {selector: s1}\n", "give the private key one way"},
		{"    dkim: {selector: s1, private_key_env: NOPE}\n", "environment variable NOPE is not set"},
	}
	for _, tt := range tests {
		c, ps := Parse(filepath.Join(dir, "f.yaml"), []byte(valid+tt.dkim), env(map[string]string{"SMTP_PW": "pw"}))
		if tt.want == "" {
			if len(ps) > 0 || c.Mailboxes[0].DKIM.Key == nil || c.Mailboxes[0].DKIM.Domain != "acme.test" {
				t.Errorf("%s: %v", tt.dkim, ps)
			}
			continue
		}
		if len(ps) != 1 || !strings.Contains(ps[0].Msg, tt.want) {
			t.Errorf("%s: problems %v, want %q", tt.dkim, ps, tt.want)
		}
	}
}
