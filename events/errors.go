package events

import (
	"errors"

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
