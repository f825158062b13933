// Package events listens to Salesforce the way MuleSoft's listeners do: a
// Subscription names a Source (a Streaming API channel on the org's mutual
// TLS port, or a change trigger that polls an object) and a replay start,
// hands each event to the user's Handler, and saves the event's position in a
// Store only after the handler returned without error. With a shared Store,
// the processes of a fleet that run the same subscription take turns under a
// lease: one listens, another takes over when it dies, from the saved
// position.
//
// Delivery is at least once: an event whose handler returned but whose
// position was not yet saved when the process died is delivered again after
// the restart. Handlers should therefore be idempotent (key the work on the
// record id and the event's position).
package events

import (
	"context"
	"encoding/json"
	"time"
)

// Event is one delivered event.
type Event struct {
	// Channel is the channel or trigger it came from, such as
	// "/data/AccountChangeEvent" or "/event/Order_Placed__e".
	Channel string
	// Position is where the subscription resumes after this event once it is
	// saved; opaque, written by the Source.
	Position []byte
	// ReplayID is the Streaming API's replay id (0 when the source has none).
	ReplayID int64
	// Time is when Salesforce created the event, when the source says.
	Time time.Time
	// Data is the event's payload as JSON: a platform event's fields, a change
	// event's record fields (with ChangeEventHeader), a PushTopic's sobject, a
	// generic event's payload, or a change trigger's record.
	Data json.RawMessage
	// Change describes a change event or a change trigger's record; nil for
	// other events.
	Change *ChangeHeader
}

// ChangeHeader is the header of a change event (Change Data Capture's
// ChangeEventHeader), or its equivalent for a change trigger.
type ChangeHeader struct {
	EntityName      string   `json:"entityName"`
	RecordIDs       []string `json:"recordIds"`
	ChangeType      string   `json:"changeType"` // CREATE, UPDATE, DELETE, UNDELETE, GAP_*, ...
	ChangeOrigin    string   `json:"changeOrigin"`
	TransactionKey  string   `json:"transactionKey"`
	SequenceNumber  int      `json:"sequenceNumber"`
	CommitTimestamp int64    `json:"commitTimestamp"` // milliseconds since the epoch
	CommitNumber    int64    `json:"commitNumber"`
	CommitUser      string   `json:"commitUser"`
	ChangedFields   []string `json:"changedFields"`
	DiffFields      []string `json:"diffFields"`
	NulledFields    []string `json:"nulledFields"`
}

// Handler handles one event. Returning nil lets the subscription save the
// event's position; returning an error stops the subscription with that error
// and the event is delivered again when it is run again.
type Handler func(ctx context.Context, ev Event) error

// Replay says where a subscription starts when its Store holds no position.
type Replay int

const (
	// ReplayNew delivers only events that arrive after the subscription
	// started (the Streaming API's -1).
	ReplayNew Replay = iota
	// ReplayAll delivers every event still retained (the Streaming API's -2).
	ReplayAll
)

// Source produces the events of one channel in order. The subscription calls
// Run; Run delivers events until ctx ends, deliver returns an error (Run then
// returns it), or a failure it cannot recover from.
type Source interface {
	// Key names the subscription in the Store: sources with the same key
	// share a position and a lease.
	Key() string
	// Run starts after pos, or at start when pos is nil. When pos is no longer
	// retained by Salesforce, Run returns an error matching ErrPositionGone.
	Run(ctx context.Context, pos []byte, start Replay, deliver func(context.Context, Event) error) error
}

// Store keeps the positions of subscriptions and the lease that lets one
// process of a fleet listen at a time. auth.FileStore (one machine) and
// redisstore.Store (a fleet) implement it, beside the tokens they keep.
// Every method is bounded by ctx and safe for concurrent use.
type Store interface {
	// LoadPosition returns key's saved position, or nil and no error.
	LoadPosition(ctx context.Context, key string) ([]byte, error)
	// SavePosition saves pos as key's position if holder holds key's lease,
	// and returns an error matching ErrLeaseLost otherwise: a process that
	// lost its lease must not move the position of the one that took over.
	SavePosition(ctx context.Context, key, holder string, pos []byte) error
	// AcquireLease makes holder key's lease holder for ttl if the lease is
	// free, expired, or already holder's (a renewal), and reports whether
	// holder holds it now.
	AcquireLease(ctx context.Context, key, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives key's lease up if holder holds it.
	ReleaseLease(ctx context.Context, key, holder string) error
}
