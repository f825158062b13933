package events_test

import (
	"testing"

	"github.com/sfmtls/sfmtls/events"
)

// A change trigger's position is read back from a store another process or
// version may have written: the parser never panics and accepts only what a
// trigger saves.
func FuzzTriggerPosition(f *testing.F) {
	for _, seed := range []string{
		`{"v":1,"modified":{"t":"2026-12-06T23:33:40Z","id":"001000000000001AAA"},"deleted":{"t":"2026-12-06T23:33:40.1Z"}}`,
		`{"v":1,"modified":{"t":"2026-12-06T23:33:40Z"}}`,
		`{"v":1,"modified":{"t":"2026-12-06T23:33:40Z"},"deleted":{"t":"2026-11-21T00:00:00Z","earliest":true}}`,
		`{"v":2}`, `12345`, `{"v":1,"modified":{"t":"0001-01-01T00:00:00Z"}}`, ``, `null`,
		`{"v":1,"modified":{"t":"2026-12-06T23:33:40Z","id":"0123456789012345678901234"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = events.ParseTriggerPosition(b)
	})
}

func TestTriggerPositionRefusals(t *testing.T) {
	for _, bad := range []string{`{"v":2}`, `12345`, `{"v":1,"modified":{"t":"0001-01-01T00:00:00Z"}}`, ``,
		`{"v":1,"modified":{"t":"2026-12-06T23:33:40Z","id":"0123456789012345678901234"}}`,
		`{"v":1,"modified":{"t":"2026-12-06T23:33:40Z"},"deleted":{"t":"0001-01-01T00:00:00Z"}}`} {
		if events.ParseTriggerPosition([]byte(bad)) == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if err := events.ParseTriggerPosition([]byte(`{"v":1,"modified":{"t":"2026-12-06T23:33:40Z","id":"001000000000001AAA"}}`)); err != nil {
		t.Error(err)
	}
}
