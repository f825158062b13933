package events

import "time"

// SetTriggerClock makes t read now instead of time.Now, so that a test moves
// the trigger's clock with the fake org's.
func SetTriggerClock(t *Trigger, now func() time.Time) { t.now = now }

// ParseTriggerPosition exposes the position parser to the fuzz test.
func ParseTriggerPosition(b []byte) error { _, err := parseTriggerPosition(b); return err }
