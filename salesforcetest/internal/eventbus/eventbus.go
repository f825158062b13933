// Package eventbus is the fake org's event bus: streams of events with
// replay ids and retention, as the Streaming API Developer Guide's "Message
// Durability" describes them (https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/using_streaming_api_durability.htm):
// each event gets a replay id higher than every earlier one (not
// contiguous: one counter serves the whole org), events are kept for the
// stream's retention window, and a replay id is valid only while its event
// is retained.
package eventbus

import (
	"encoding/json"
	"sort"
	"sync"
	"time"
)

// Event is one published event.
type Event struct {
	ID   int64
	Time time.Time
	// Tag selects the event within its stream: the entity of a change event,
	// so that /data/AccountChangeEvent reads the change stream filtered.
	Tag  string
	Data json.RawMessage // the message's data object, replayId included
}

// Bus holds the org's streams. It is safe for concurrent use.
type Bus struct {
	now func() time.Time
	// maxPerStream bounds each stream's memory: past it the oldest events
	// are dropped, as if their retention had ended.
	maxPerStream int

	mu      sync.Mutex
	streams map[string]*stream
	lastID  int64
	wake    chan struct{} // closed and replaced by every publish
}

type stream struct {
	retention time.Duration
	events    []Event // by ID
}

// New returns an empty bus on the clock now.
func New(now func() time.Time, maxPerStream int) *Bus {
	return &Bus{now: now, maxPerStream: maxPerStream, streams: map[string]*stream{}, wake: make(chan struct{})}
}

// Publish appends an event to the stream, made by build with its replay id
// and time, and returns the id.
func (b *Bus) Publish(name string, retention time.Duration, tag string, build func(id int64, at time.Time) json.RawMessage) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stream(name, retention)
	b.lastID++
	at := b.now()
	s.events = append(s.events, Event{ID: b.lastID, Time: at, Tag: tag, Data: build(b.lastID, at)})
	if len(s.events) > b.maxPerStream {
		s.events = append(s.events[:0:0], s.events[len(s.events)-b.maxPerStream:]...)
	}
	close(b.wake)
	b.wake = make(chan struct{})
	return b.lastID
}

func (b *Bus) stream(name string, retention time.Duration) *stream {
	s, ok := b.streams[name]
	if !ok {
		s = &stream{retention: retention}
		b.streams[name] = s
	}
	return s
}

// purge drops the events past retention.
func (b *Bus) purge(s *stream) {
	if s.retention <= 0 {
		return
	}
	cut := b.now().Add(-s.retention)
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].Time.After(cut) })
	if i > 0 {
		s.events = append(s.events[:0:0], s.events[i:]...)
	}
}

// Last returns the highest replay id issued so far: subscribing with -1
// starts after it.
func (b *Bus) Last() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastID
}

// Retained reports whether the stream still holds the event with id, the
// condition for a subscription to resume after it.
func (b *Bus) Retained(name string, id int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.streams[name]
	if !ok {
		return false
	}
	b.purge(s)
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].ID >= id })
	return i < len(s.events) && s.events[i].ID == id
}

// Read returns up to max events of the stream after id with the tag (any
// tag when tag is empty), and the wake channel to wait on for more.
func (b *Bus) Read(name, tag string, after int64, max int) ([]Event, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wake := b.wake
	s, ok := b.streams[name]
	if !ok {
		return nil, wake
	}
	b.purge(s)
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].ID > after })
	var out []Event
	for ; i < len(s.events) && len(out) < max; i++ {
		if tag == "" || s.events[i].Tag == tag {
			out = append(out, s.events[i])
		}
	}
	return out, wake
}

// Forget drops every retained event of every stream, as if retention had
// ended for all of them: the fault "lose retention".
func (b *Bus) Forget() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.streams {
		s.events = nil
	}
}
