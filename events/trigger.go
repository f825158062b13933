package events

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/errs"
	"github.com/sfmtls/sfmtls/internal/retry"
)

// Trigger is a Source for orgs without Change Data Capture: it polls one
// object for new, modified and deleted records, as MuleSoft's "On New
// Object", "On Modified Object" and "On Deleted Object" sources do. New and
// modified records come from SOQL on SystemModstamp (on CreatedDate when only
// CREATE is asked for); deleted ones from the Get Deleted resource
// (/sobjects/Object/deleted). Each event's Change names the object, the
// record's id and CREATE, UPDATE or DELETE; its Data is the record as the
// query returned it (for a deletion, only its Id).
//
// Its Position is a watermark, saved like a replay id, that loses nothing at
// the boundary of a poll:
//   - records that share a timestamp: a poll reads one second of the
//     timestamp in Id order and the watermark keeps the second and the last
//     id delivered in it, so a poll that stops inside a second resumes after
//     that id;
//   - clock skew and late commits: a poll reads only up to Lag before this
//     machine's clock, so a record whose SystemModstamp Salesforce's clock
//     set a little behind ours, or whose transaction committed after it was
//     stamped, is already visible when its second is read;
//   - the window of deleted records: Get Deleted answers only for the recent
//     past (its earliestDateAvailable); a watermark older than that returns
//     ErrPositionGone rather than skip deletions silently.
//
// A CREATE is a record created after the watermark the poll started from,
// so a record created and then modified between two polls is one CREATE with
// its latest fields, and a record modified twice between polls is one
// UPDATE. Deletions are delivered after the same poll's creations and
// updates. ReplayNew starts Lag before Run starts; ReplayAll 30 days back
// for creations and updates (the window Get Updated documents) and from the
// earliest deletion Get Deleted still has. A position is saved only with an
// event, so an object without changes for longer than Get Deleted's window
// returns ErrPositionGone at the next start; Subscription.IfGone decides.
type Trigger struct {
	// Client calls the org.
	Client *client.Client
	// Object is the sObject's API name, such as "Account" or "Invoice__c".
	Object string
	// ChangeTypes are the changes delivered: "CREATE", "UPDATE", "DELETE";
	// nil for all three. Triggers on one object with different ChangeTypes
	// have different Keys, so each keeps its own position.
	ChangeTypes []string
	// Fields are the fields in each event's Data, besides Id, CreatedDate and
	// SystemModstamp, which are always there.
	Fields []string
	// Interval is the wait between polls that found nothing more to read;
	// default 10s. A poll that read a full batch polls again at once.
	Interval time.Duration
	// Lag is how far behind this machine's clock a poll reads; default 30s.
	// A record whose transaction commits more than Lag after it was stamped
	// (a long batch, an org whose clock is ahead of this one by more) can be
	// missed: raise it for such orgs. Events arrive Lag after the change.
	Lag time.Duration
	// BatchSize bounds the records one query returns; default 200, at most
	// 2000.
	BatchSize int

	now func() time.Time // tests move the clock
}

// Defaults of Trigger's fields.
const (
	defaultInterval  = 10 * time.Second
	defaultLag       = 30 * time.Second
	defaultBatch     = 200
	maxBatch         = 2000
	modifiedWindow   = 30 * 24 * time.Hour // Get Updated's documented window
	deletedStartBack = 15 * 24 * time.Hour // Get Deleted's, on its REST page
	// maxDeletedSpan bounds one Get Deleted call, so a poll after a long pause
	// reads a bounded answer (the resource refuses more than 600,000 ids).
	maxDeletedSpan = time.Hour
)

// Change types a Trigger delivers.
const (
	changeCreate = "CREATE"
	changeUpdate = "UPDATE"
	changeDelete = "DELETE"
)

// triggerBackoff paces polls after a failure the transport's own retries did
// not cure (the org unreachable for a while): longer than a call's retries, as
// a listener waits rather than fails.
var triggerBackoff = retry.Backoff{MaxAttempts: 8, BaseDelay: time.Second, MaxDelay: time.Minute}.Or(retry.Calls)

var (
	identifier = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	fieldPath  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$`)
)

// triggerConfig is a Trigger with its defaults filled and its fields checked.
type triggerConfig struct {
	c                      *client.Client
	object                 string
	create, update, delete bool
	fields                 []string
	interval, lag          time.Duration
	batch                  int
	now                    func() time.Time
	key                    string
}

func (t *Trigger) config() (*triggerConfig, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("events: %w: Trigger.%s", errs.ErrConfig, fmt.Sprintf(format, args...))
	}
	if t.Client == nil {
		return nil, bad("Client is nil")
	}
	if !identifier.MatchString(t.Object) {
		return nil, bad("Object %q is not an sObject API name", t.Object)
	}
	cfg := &triggerConfig{c: t.Client, object: t.Object, interval: t.Interval, lag: t.Lag, batch: t.BatchSize, now: t.now}
	types := t.ChangeTypes
	if types == nil {
		types = []string{changeCreate, changeUpdate, changeDelete}
	}
	for _, ct := range types {
		switch ct {
		case changeCreate:
			cfg.create = true
		case changeUpdate:
			cfg.update = true
		case changeDelete:
			cfg.delete = true
		default:
			return nil, bad("ChangeTypes has %q (CREATE, UPDATE or DELETE)", ct)
		}
	}
	if !cfg.create && !cfg.update && !cfg.delete {
		return nil, bad("ChangeTypes is empty (nil for all three)")
	}
	cfg.fields = []string{"Id", "CreatedDate", "SystemModstamp"}
	for _, f := range t.Fields {
		if !fieldPath.MatchString(f) {
			return nil, bad("Fields has %q, not a field name", f)
		}
		if !slices.ContainsFunc(cfg.fields, func(g string) bool { return strings.EqualFold(f, g) }) {
			cfg.fields = append(cfg.fields, f)
		}
	}
	if cfg.interval <= 0 {
		cfg.interval = defaultInterval
	}
	if cfg.lag <= 0 {
		cfg.lag = defaultLag
	}
	if cfg.batch <= 0 {
		cfg.batch = defaultBatch
	}
	if cfg.batch > maxBatch {
		return nil, bad("BatchSize %d is over %d", cfg.batch, maxBatch)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	var names []string
	for _, ct := range []string{changeCreate, changeUpdate, changeDelete} {
		if slices.Contains(types, ct) {
			names = append(names, ct)
		}
	}
	cfg.key = "trigger:" + t.Object + ":" + strings.Join(names, ",")
	return cfg, nil
}

// Key is "trigger:<Object>:<change types>", such as
// "trigger:Account:CREATE,UPDATE,DELETE"; it is also the events' Channel.
// An invalid Trigger has the key "" (Run says why).
func (t *Trigger) Key() string {
	cfg, err := t.config()
	if err != nil {
		return ""
	}
	return cfg.key
}

// deliverError marks the handler's error, which Run returns as it is.
type deliverError struct{ err error }

func (e deliverError) Error() string { return e.err.Error() }
func (e deliverError) Unwrap() error { return e.err }

// Run polls until ctx ends, deliver fails, the position is gone, or failures
// outlast the SDK's backoff (8 attempts from 1s). A failure that retrying
// cannot cure (a 4xx answer other than 429: no such object or field, no
// access) returns at once.
func (t *Trigger) Run(ctx context.Context, pos []byte, start Replay, deliver func(context.Context, Event) error) error {
	cfg, err := t.config()
	if err != nil {
		return err
	}
	var st triggerPosition
	if pos != nil {
		if st, err = parseTriggerPosition(pos); err != nil {
			return err
		}
		if cfg.delete && st.Deleted == nil {
			// Saved by a trigger without deletions (another key's): start
			// deletions where creations and updates stand.
			st.Deleted = &deletedMark{At: st.Modified.Second}
		}
	} else {
		st = initialPosition(cfg, start)
	}
	p := &poller{cfg: cfg, st: st, deliver: deliver}
	failures := 0
	for {
		more, err := p.poll(ctx)
		if err != nil {
			var de deliverError
			switch {
			case errors.As(err, &de):
				return de.err
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.Is(err, ErrPositionGone), !retryable(err):
				return err
			}
			failures++
			wait, ok := triggerBackoff.Backoff(failures, retry.Failure{Err: err})
			if !ok {
				return fmt.Errorf("events: %s: polling failed %d times: %w", cfg.key, failures, err)
			}
			if err := retry.Sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		failures = 0
		if more {
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		if err := retry.Sleep(ctx, cfg.interval); err != nil {
			return err
		}
	}
}

// retryable: an answer that says the request itself is wrong (4xx other than
// 429) fails the same way next time.
func retryable(err error) bool {
	var api *client.APIError
	if errors.As(err, &api) {
		return api.StatusCode >= 500 || api.StatusCode == http.StatusTooManyRequests
	}
	return !errors.Is(err, errs.ErrConfig)
}

func initialPosition(cfg *triggerConfig, start Replay) triggerPosition {
	// Lag before now, as a poll reads: a change Salesforce's clock stamped
	// just before Run started by ours is not lost.
	now := cfg.now().UTC().Add(-cfg.lag)
	var st triggerPosition
	from := now
	if start == ReplayAll {
		from = now.Add(-modifiedWindow)
	}
	st.Modified = watermark{Second: from.Truncate(time.Second)}
	if cfg.delete {
		st.Deleted = &deletedMark{At: now}
		if start == ReplayAll {
			st.Deleted = &deletedMark{At: now.Add(-deletedStartBack), Earliest: true}
		}
	}
	return st
}
