package bulk

import (
	"context"
	"sync"
	"time"
)

// NextPoll is nextPoll, for the schedule's tests.
var NextPoll = nextPoll

// FakeClock is a clock that moves only when slept on or advanced, so that a
// test of the polling schedule takes no time and cannot be flaky.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a clock at the current time.
func NewFakeClock() *FakeClock { return &FakeClock{now: time.Now()} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d, as a status call's latency would.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep moves the clock forward by d, or to ctx's deadline when that comes
// first, returning context.DeadlineExceeded then, as a real sleep would.
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if deadline, ok := ctx.Deadline(); ok && !c.now.Add(d).Before(deadline) {
		c.now = deadline
		return context.DeadlineExceeded
	}
	c.now = c.now.Add(max(d, 0))
	return nil
}

// UseClock makes b schedule its status checks by c.
func UseClock(b *Client, c *FakeClock) { b.clock = c }
