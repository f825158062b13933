package events

import (
	"errors"
	"strconv"

	"github.com/sfmtls/sfmtls/internal/errs"
)

// ErrPositionGone reports that a saved position is no longer retained by
// Salesforce (past the retention window of the channel, or past the 30 days
// of deleted records for a change trigger). Subscription.IfGone decides what
// happens then.
var ErrPositionGone = errors.New("events: the saved position is no longer retained")

// ErrLeaseLost reports that a process no longer holds the lease of its
// subscription: another process of the fleet took over.
// The stores return it from SavePosition; it is the value they share through
// internal/errs, as auth cannot import events.
var ErrLeaseLost = errs.ErrLeaseLost

// StreamingError is a Streaming API request that Salesforce refused, as its
// Bayeux error field says ("400::The channel you requested to subscribe to
// doesn't exist"). The subscription stops with it when no reconnection can
// mend it.
type StreamingError struct {
	// Channel is the meta channel of the refused request (/meta/subscribe,
	// /meta/handshake, ...); Subscription the channel subscribed to.
	Channel, Subscription string
	// Code is the error's code (400, 401, 403, ...), Message its text.
	Code    int
	Message string
}

func (e *StreamingError) Error() string {
	return "events: Streaming API " + e.Channel + " for " + e.Subscription + " refused: " +
		strconv.Itoa(e.Code) + " " + e.Message
}
