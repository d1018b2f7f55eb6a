package registry

import (
	"testing"
	"time"
)

// lastUpdatedOn is a LocalDateTime of the management service, whose clock is Finnish
// time: summer UTC+3, winter UTC+2, and the hour repeated in autumn read as its first.
func TestParseLocalDateTime(t *testing.T) {
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for in, want := range map[string]time.Time{
		"2024-08-12T09:41:07":        utc("2024-08-12T06:41:07Z"),
		"2025-01-20T08:15:30.123456": utc("2025-01-20T06:15:30.123456Z"),
		"2025-01-20T08:15":           utc("2025-01-20T06:15:00Z"),
		"2025-10-26T03:30:00":        utc("2025-10-26T00:30:00Z"), // EEST, not the EET hour after it
		"2025-10-26T04:30:00":        utc("2025-10-26T02:30:00Z"),
		"2024-08-12T09:41:07+02:00":  utc("2024-08-12T07:41:07Z"),
		"2024-08-12T06:41:07Z":       utc("2024-08-12T06:41:07Z"),
	} {
		got, err := parseLocalDateTime(in, helsinki)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12.8.2024", "2024-08-12", "2024-08-12 09:41:07", "[2024,8,12,9,41,7]"} {
		if _, err := parseLocalDateTime(in, helsinki); err == nil {
			t.Errorf("%q read as a time", in)
		}
	}
}
