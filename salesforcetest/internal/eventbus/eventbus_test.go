package eventbus

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func publish(b *Bus, stream, tag string, retention time.Duration) int64 {
	return b.Publish(stream, retention, tag, func(id int64, _ time.Time) json.RawMessage { return json.RawMessage(`{}`) })
}

// Replay ids grow across the org (not contiguous within a stream, as
// "Message Durability" allows), an id is valid while its event is retained,
// and retention follows the bus's clock.
func TestRetentionAndReplayIDs(t *testing.T) {
	c := &clock{now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	b := New(c.Now, 100)
	a1 := publish(b, "/event/A__e", "", 72*time.Hour)
	g1 := publish(b, "/u/G", "", 24*time.Hour)
	a2 := publish(b, "/event/A__e", "", 72*time.Hour)
	assert.Less(t, a1, g1)
	assert.Less(t, g1, a2)
	assert.Equal(t, a2, b.Last())
	assert.True(t, b.Retained("/event/A__e", a1))
	assert.False(t, b.Retained("/event/A__e", g1), "an id of another stream")

	c.advance(25 * time.Hour)
	assert.False(t, b.Retained("/u/G", g1), "past 24 hours")
	assert.True(t, b.Retained("/event/A__e", a1), "within 72 hours")
	evs, _ := b.Read("/event/A__e", "", 0, 10)
	require.Len(t, evs, 2)

	c.advance(48 * time.Hour)
	assert.False(t, b.Retained("/event/A__e", a1))
	evs, _ = b.Read("/event/A__e", "", 0, 10)
	require.Len(t, evs, 0)
}

// Read filters by tag, stops at max, and its wake channel closes on the
// next publish.
func TestReadTagMaxAndWake(t *testing.T) {
	c := &clock{now: time.Now()}
	b := New(c.Now, 3)
	for _, tag := range []string{"Account", "Contact", "Account", "Account"} {
		publish(b, "/data/ChangeEvents", tag, time.Hour)
	}
	all, _ := b.Read("/data/ChangeEvents", "", 0, 10)
	assert.Len(t, all, 3, "the stream keeps at most 3")
	accounts, wake := b.Read("/data/ChangeEvents", "Account", 0, 10)
	assert.Len(t, accounts, 2)
	first, _ := b.Read("/data/ChangeEvents", "", 0, 1)
	require.Len(t, first, 1)
	select {
	case <-wake:
		t.Fatal("woken before a publish")
	default:
	}
	publish(b, "/u/Other", "", time.Hour)
	select {
	case <-wake:
	default:
		t.Fatal("not woken by a publish")
	}
	b.Forget()
	none, _ := b.Read("/data/ChangeEvents", "", 0, 10)
	assert.Empty(t, none)
}
