package events

import (
	"encoding/json"
	"fmt"
	"time"
)

// watermark is how far a change trigger has delivered, as a key in the order
// it delivers: a second of the timestamp field (SystemModstamp, CreatedDate)
// and the last record id delivered in that second. Everything before Second,
// and everything in Second with an Id up to ID, was delivered; ID "" means
// nothing of Second yet.
//
// The second, not the exact instant, because SOQL dateTime literals have no
// fraction of a second (soql.Format drops it): the trigger asks for one whole
// second in Id order, so the ids seen at the watermark's instant are exactly
// those up to ID, and the position stays a few dozen bytes however many
// records share a second.
type watermark struct {
	Second time.Time `json:"t"`
	ID     string    `json:"id,omitempty"`
}

// deletedMark is how far Get Deleted was delivered: the exact deletedDate and
// id of the last deleted record delivered (deletions are ordered by both), or
// a covered instant with ID "".
type deletedMark struct {
	At time.Time `json:"t"`
	ID string    `json:"id,omitempty"`
	// Earliest: ReplayAll's start, which moves up to Get Deleted's
	// earliestDateAvailable instead of reporting the position gone.
	Earliest bool `json:"earliest,omitempty"`
}

// triggerPosition is a change trigger's Position: where its two feeds stand.
// Saved as JSON, it is read back from a store, so it is checked on the way in.
type triggerPosition struct {
	V        int          `json:"v"`
	Modified watermark    `json:"modified"`
	Deleted  *deletedMark `json:"deleted,omitempty"` // nil when deletions are not asked for
}

const triggerPositionVersion = 1

// maxTriggerPosition bounds the bytes parsed: a position is about 150 bytes.
const maxTriggerPosition = 1024

// maxIDLen bounds a record id (Salesforce ids are 15 or 18 characters).
const maxIDLen = 18

func (p triggerPosition) encode() []byte {
	p.V = triggerPositionVersion
	b, _ := json.Marshal(p) // only times and short strings: cannot fail
	return b
}

// parseTriggerPosition reads a position saved by a change trigger; anything
// else (another source's position, a damaged store) is an error that says
// so, never a guess.
func parseTriggerPosition(b []byte) (triggerPosition, error) {
	var p triggerPosition
	if len(b) > maxTriggerPosition {
		return p, fmt.Errorf("events: a change trigger position of %d bytes is not one this trigger saved", len(b))
	}
	if err := json.Unmarshal(b, &p); err != nil || p.V != triggerPositionVersion {
		return triggerPosition{}, fmt.Errorf("events: the saved position is not a change trigger's position (version %d)", triggerPositionVersion)
	}
	if p.Modified.Second.IsZero() || len(p.Modified.ID) > maxIDLen ||
		(p.Deleted != nil && (p.Deleted.At.IsZero() || len(p.Deleted.ID) > maxIDLen)) {
		return triggerPosition{}, fmt.Errorf("events: the saved change trigger position is incomplete or malformed")
	}
	p.Modified.Second = p.Modified.Second.UTC().Truncate(time.Second)
	if p.Deleted != nil {
		p.Deleted.At = p.Deleted.At.UTC()
	}
	return p, nil
}

// after reports whether (sec, id) comes after w in delivery order.
func (w watermark) after(sec time.Time, id string) bool {
	return sec.After(w.Second) || (sec.Equal(w.Second) && id > w.ID)
}

// after reports whether (at, id) comes after d in delivery order.
func (d deletedMark) after(at time.Time, id string) bool {
	return at.After(d.At) || (at.Equal(d.At) && id > d.ID)
}
