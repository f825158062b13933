package salesforcetest

import (
	"net/http"
	"testing"
	"time"
)

// parseHTTPDate reads If-Modified-Since from the network: it never panics,
// and a date it accepts in GMT is the instant written.
func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{
		"Tue, 23 Mar 2015 00:00:00 GMT", "Mon, 30 Nov 2020 08:34:54 MST", "Mon, 30 Nov 2020 08:34:54 -0700",
		"Mon, 30 Nov 2020 08:34:54 XYZ", "not a date", "", "Mon, 30 Nov 2020 25:61:61 GMT",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseHTTPDate(s)
		if want, err := time.Parse(http.TimeFormat, s); err == nil && (!ok || !got.Equal(want)) {
			t.Fatalf("%q: got %v %v, want %v", s, got, ok, want)
		}
	})
}

func TestParseHTTPDateZones(t *testing.T) {
	got, ok := parseHTTPDate("Mon, 30 Nov 2020 08:34:54 MST")
	want := time.Date(2020, 11, 30, 15, 34, 54, 0, time.UTC)
	if !ok || !got.Equal(want) {
		t.Fatalf("got %v %v, want %v", got, ok, want)
	}
}
