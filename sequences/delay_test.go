package sequences

import (
	"strings"
	"testing"
	"time"
)

func TestParseDelay(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"30m", 30 * time.Minute, ""},
		{"4h", 4 * time.Hour, ""},
		{"2d", 48 * time.Hour, ""},
		{"1w", 7 * 24 * time.Hour, ""},
		{"1w2d", 9 * 24 * time.Hour, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"0m", 0, ""},
		{" 13w ", 13 * 7 * 24 * time.Hour, ""},
		{"", 0, "empty delay"},
		{"3", 0, "has no unit"},
		{"3x", 0, "unknown unit"},
		{"h", 0, "expected a number"},
		{"-1d", 0, "expected a number"},
		{"1.5d", 0, "unknown unit"},
		{"99999999999w", 0, "longer than 10 years"},
		{"600w", 0, "longer than 10 years"},
	}
	for _, tt := range tests {
		got, err := ParseDelay(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseDelay(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.D != tt.want {
			t.Errorf("ParseDelay(%q) = %v, %v; want %v", tt.in, got.D, err, tt.want)
		}
		if back, err := ParseDelay(got.String()); err != nil || back != got {
			t.Errorf("round trip of %q via %q = %v, %v", tt.in, got.String(), back, err)
		}
	}
}
