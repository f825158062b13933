package bulk_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/bulk"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Issue 23, point 5: a job that ends at T is noticed within the larger of
// the first interval and T/2, after a number of status checks (each an API
// call) that grows with log(T): here at most 2 + ⌈log1.5(T / first)⌉.
func TestPollScheduleNoticesWithinHalfTheRunTimeInLogarithmicChecks(t *testing.T) {
	const first = 500 * time.Millisecond
	for T := time.Millisecond; T <= 48*time.Hour; T = T*21/20 + time.Millisecond {
		checks, at := 1, time.Duration(0) // the first check, at once
		for at < T {
			next := bulk.NextPoll(at, first, 0)
			require.Greater(t, next, at, "the schedule moves forward")
			at = next
			checks++
		}
		delay := at - T
		require.LessOrEqual(t, delay, max(first, T/2), "job ending at %v noticed at %v", T, at)
		bound := 2
		if T > first {
			bound += int(math.Ceil(math.Log(float64(T)/float64(first)) / math.Log(1.5)))
		}
		require.LessOrEqual(t, checks, bound, "job ending at %v: %d checks", T, checks)
	}
	// The checks: at once, 0.5 s, 0.75 s, 1.125 s, …
	var at time.Duration
	var got []time.Duration
	for range 5 {
		at = bulk.NextPoll(at, first, 0)
		got = append(got, at)
	}
	assert.Equal(t, []time.Duration{500 * time.Millisecond, 750 * time.Millisecond, 1125 * time.Millisecond,
		1687500 * time.Microsecond, 2531250 * time.Microsecond}, got)
	// MaxPollInterval bounds the wait between two checks.
	assert.Equal(t, 12*time.Second, bulk.NextPoll(10*time.Second, first, 2*time.Second))
}

// jobStatus serves the status of a job whose state the test decides, on the
// fake org (authenticated and counted as any API call), noting the clock's
// time at each check.
type jobStatus struct {
	mu      sync.Mutex
	clock   *bulk.FakeClock
	start   time.Time
	latency time.Duration
	doneAt  time.Duration // since start; 0: never
	checks  []time.Duration
}

func (s *jobStatus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.clock.Advance(s.latency)
	at := s.clock.Now().Sub(s.start)
	s.mu.Lock()
	s.checks = append(s.checks, at)
	s.mu.Unlock()
	state := "InProgress"
	if s.doneAt > 0 && at >= s.doneAt {
		state = "JobComplete"
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"7505e000000AbCdAAK","operation":"insert","object":"Account","state":%q}`, state)
}

func startJobStatus(t *testing.T, s *jobStatus) *bulk.Client {
	t.Helper()
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	c := org.Client(t)
	v, err := c.APIVersion(t.Context())
	require.NoError(t, err)
	org.Setup().Handle("/services/data/v"+v+"/jobs/ingest/7505e000000AbCdAAK", true, s)
	b := bulk.NewClient(c, bulk.Options{})
	s.clock = bulk.NewFakeClock()
	s.start = s.clock.Now()
	bulk.UseClock(b, s.clock)
	return b
}

// A job that ends at 0.58 s is noticed at 0.75 s, on the third status check
// (the schedule before issue 23, at once, 0.5 s and 1.25 s, noticed it at
// 1.25 s with as many checks).
func TestWaitNoticesAJobEndingAt580msBy750ms(t *testing.T) {
	s := &jobStatus{doneAt: 580 * time.Millisecond}
	b := startJobStatus(t, s)
	var states []bulk.JobState
	info, err := b.IngestJob("7505e000000AbCdAAK", bulk.Format{}).Wait(t.Context(), func(i bulk.JobInfo) { states = append(states, i.State) })
	require.NoError(t, err)
	assert.Equal(t, bulk.StateJobComplete, info.State)
	assert.Equal(t, []time.Duration{0, 500 * time.Millisecond, 750 * time.Millisecond}, s.checks)
	assert.Equal(t, []bulk.JobState{bulk.StateInProgress, bulk.StateInProgress, bulk.StateJobComplete}, states)
}

// With a deadline on the context, the wait makes one last check just before
// it (by twice a check's latency) and then ends with the deadline, the last
// status seen returned.
func TestWaitLooksLastJustBeforeTheDeadline(t *testing.T) {
	s := &jobStatus{latency: 10 * time.Millisecond}
	b := startJobStatus(t, s)
	ctx, cancel := context.WithDeadline(t.Context(), s.start.Add(2*time.Second))
	defer cancel()
	info, err := b.IngestJob("7505e000000AbCdAAK", bulk.Format{}).Wait(ctx, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, bulk.StateInProgress, info.State)
	ms := time.Millisecond
	// Each check is seen 10 ms (its latency) after it was made.
	assert.Equal(t, []time.Duration{10 * ms, 510 * ms, 760 * ms, 1135 * ms, 1697500 * time.Microsecond, 1990 * ms}, s.checks)
}
