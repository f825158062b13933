package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/sfmtls/sfmtls/internal/retry"
)

// IfGone says what a subscription does when its saved position is no longer
// retained (ErrPositionGone).
type IfGone int

const (
	// GoneFail stops the subscription with an error matching ErrPositionGone:
	// events were lost, and someone should know. The default.
	GoneFail IfGone = iota
	// GoneEarliest starts again from the earliest event still retained
	// (ReplayAll), logging a warning: the events between the saved position
	// and the earliest retained one are lost.
	GoneEarliest
)

// Subscription delivers the events of a Source to a Handler, one at a time,
// and saves each event's position in Store after the handler returned nil.
//
// Delivery is at least once. Positions are saved one event at a time, before
// the next event is handed over, so after a crash exactly one event can be
// delivered again: the one whose handler was running, or had returned, when
// the process died before its position was saved. When a lease is lost while
// a handler runs (the process stalled past LeaseTTL and another took over),
// that one event may also be handled by both processes. Key idempotent work
// on the event's ReplayID (or Position) and, for changes, the record ids.
//
// A slow handler slows the subscription: the Source hands over one event at
// a time and reads at most one answer of the server ahead of the handler,
// each answer within a bound, so memory stays bounded whatever the server
// sends.
type Subscription struct {
	// Source produces the events (Streaming, or a change trigger).
	Source Source
	// Start is where to begin when Store holds no position for Source.Key().
	Start Replay
	// Store keeps the position and the lease. nil keeps them in memory: the
	// position then does not survive the process, and no other process
	// shares the lease.
	Store Store
	// Holder names this process in the lease; default: the host name, the
	// process id and a random suffix.
	Holder string
	// LeaseTTL is how long the lease lasts unless renewed; it is renewed
	// every third of it. A process that dies is replaced within about
	// LeaseTTL. Default 15s.
	LeaseTTL time.Duration
	// IfGone is the policy when the saved position is no longer retained.
	IfGone IfGone
	// Logger receives warnings (a lost lease, a position past retention); nil
	// discards them.
	Logger *slog.Logger
}

// Defaults and bounds of the subscription loop.
const (
	defaultLeaseTTL = 15 * time.Second
	minLeaseTTL     = time.Second
	// maxStoreFailures bounds how often in a row the store may fail (a lease
	// call, a load or a save) before Run gives up with the store's error.
	maxStoreFailures = 8
)

// storeBackoff paces the retries after a store failure, with the SDK's one
// backoff.
var storeBackoff = retry.Backoff{MaxAttempts: maxStoreFailures, BaseDelay: 200 * time.Millisecond,
	MaxDelay: 5 * time.Second, MaxRetryAfter: time.Minute}

// errLeaseRenewal is the cause of a listen stopped because a renewal failed.
var errLeaseRenewal = errors.New("events: renewing the lease failed")

// Run listens until ctx ends (it then returns ctx's error), the handler
// returns an error (Run returns it; the event is delivered again on the next
// run), the position is gone under GoneFail, the Source fails in a way it
// cannot recover from, or the Store fails maxStoreFailures times in a row.
//
// While another process holds the lease, Run waits and tries again every
// third of LeaseTTL. When a renewal fails or the lease is lost, Run stops
// listening at once and waits for the lease again, resuming from the saved
// position when it gets it back.
func (s *Subscription) Run(ctx context.Context, h Handler) error {
	if s.Source == nil || h == nil {
		return errors.New("events: Subscription.Run needs a Source and a Handler")
	}
	store := s.Store
	if store == nil {
		store = newMemStore()
	}
	holder := s.Holder
	if holder == "" {
		holder = defaultHolder()
	}
	ttl := max(s.LeaseTTL, minLeaseTTL)
	if s.LeaseTTL == 0 {
		ttl = defaultLeaseTTL
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key := s.Source.Key()
	failures := 0
	for {
		held, err := store.AcquireLease(ctx, key, holder, ttl)
		if err == nil && held {
			err = s.listen(ctx, store, key, holder, ttl, h, log)
			if err == nil {
				failures = 0
			}
			var sf *storeFailure
			switch {
			case ctx.Err() != nil:
				s.release(store, key, holder)
				return ctx.Err()
			case errors.Is(err, ErrLeaseLost) || errors.Is(err, errLeaseRenewal):
				log.LogAttrs(ctx, slog.LevelWarn, "events: stopped listening: the lease was lost",
					slog.String("key", key), slog.String("holder", holder), slog.Any("cause", err))
				if !errors.Is(err, errLeaseRenewal) {
					failures = 0
				}
			case errors.As(err, &sf):
				err = sf.err
			case err != nil:
				s.release(store, key, holder)
				return err
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := ttl / 3
		if err != nil && !errors.Is(err, ErrLeaseLost) {
			failures++
			d, again := storeBackoff.Backoff(failures, retry.Failure{Err: err})
			if !again {
				return fmt.Errorf("events: the store failed %d times in a row: %w", failures, err)
			}
			log.LogAttrs(ctx, slog.LevelWarn, "events: the store failed; trying again",
				slog.String("key", key), slog.Any("cause", err), slog.Duration("wait", d))
			wait = min(wait, d)
		}
		if err := retry.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// storeFailure wraps a store error that stopped a listen, so Run retries it
// under the backoff rather than returning it.
type storeFailure struct{ err error }

func (e *storeFailure) Error() string { return e.err.Error() }
func (e *storeFailure) Unwrap() error { return e.err }

// release gives the lease up on the way out, so another process need not
// wait for it to expire. Bounded: the caller's context may be over.
func (s *Subscription) release(store Store, key, holder string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = store.ReleaseLease(ctx, key, holder)
}

// listen runs the Source while holding the lease; it returns when the
// listening ends, with why.
func (s *Subscription) listen(ctx context.Context, store Store, key, holder string, ttl time.Duration, h Handler, log *slog.Logger) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// A renewal must not outlive the lease it renews.
			rctx, rcancel := context.WithTimeout(ctx, ttl/3)
			held, err := store.AcquireLease(rctx, key, holder, ttl)
			rcancel()
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				cancel(fmt.Errorf("%w: %w", errLeaseRenewal, err))
				return
			case !held:
				cancel(ErrLeaseLost)
				return
			}
		}
	}()
	defer func() { cancel(nil); <-renewed }()

	pos, err := store.LoadPosition(ctx, key)
	if err != nil {
		if c := context.Cause(ctx); c != nil && ctx.Err() != nil {
			return c
		}
		return &storeFailure{fmt.Errorf("events: loading the position of %s: %w", key, err)}
	}
	start := s.Start
	var handlerErr error
	deliver := func(dctx context.Context, ev Event) error {
		if err := h(dctx, ev); err != nil {
			handlerErr = err
			return err
		}
		if err := store.SavePosition(dctx, key, holder, ev.Position); err != nil {
			if errors.Is(err, ErrLeaseLost) {
				return err
			}
			return &storeFailure{fmt.Errorf("events: saving the position of %s: %w", key, err)}
		}
		return nil
	}
	for {
		err = s.Source.Run(ctx, pos, start, deliver)
		if handlerErr != nil && errors.Is(err, handlerErr) {
			return handlerErr
		}
		if c := context.Cause(ctx); ctx.Err() != nil && c != nil && !errors.Is(c, context.Canceled) {
			return c // the lease was lost, or its renewal failed
		}
		if errors.Is(err, ErrPositionGone) && pos != nil && s.IfGone == GoneEarliest {
			log.LogAttrs(ctx, slog.LevelWarn, "events: the saved position is no longer retained; starting from the earliest retained event",
				slog.String("key", key), slog.String("position", string(pos)))
			pos, start = nil, ReplayAll
			continue
		}
		return err
	}
}

// defaultHolder names this process: host, pid and a random suffix, so that
// two processes never share a name even across containers with the same
// host name and pid.
func defaultHolder() string {
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return host + ":" + strconv.Itoa(os.Getpid()) + ":" + hex.EncodeToString(b[:])
}
