package data

import (
	"crypto/rand"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"time"
)

// The change feed: every committed change of a record (create, update,
// upsert, delete, undelete, from any request of any API) is published once,
// in commit order, to the subscribers registered when it commits. A
// transaction that is rolled back (an error under allOrNone, a Composite
// rollback) or the part of one undone by RollbackTo publishes nothing.
// The names follow Change Data Capture's ChangeEventHeader (Change Data
// Capture Developer Guide, "ChangeEventHeader Fields",
// https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_header.htm).
//
// Writers never wait for a subscriber: a commit hands each subscription its
// changes through a bounded buffer without blocking, and the subscription's
// own goroutine calls its function. A subscriber that falls more than its
// buffer behind loses the changes that do not fit; it is told with one
// Change of Type ChangeGapOverflow in their place (Change Data Capture's
// GAP_OVERFLOW, the event Salesforce sends when it cannot send every change)
// before the next change it gets.

// ChangeType is the operation that caused a change (ChangeEventHeader's changeType).
type ChangeType string

// The change types.
const (
	ChangeCreate   ChangeType = "CREATE"
	ChangeUpdate   ChangeType = "UPDATE"
	ChangeDelete   ChangeType = "DELETE"
	ChangeUndelete ChangeType = "UNDELETE"
	// ChangeGapOverflow stands for changes a subscriber's full buffer lost;
	// only its Type and Lost are set.
	ChangeGapOverflow ChangeType = "GAP_OVERFLOW"
)

// Change is one committed change of one record.
type Change struct {
	Object    string     // entityName: the object's API name
	RecordIDs []string   // recordIds: the 18-character id of the changed record
	Type      ChangeType // changeType
	// ChangedFields are the fields an update changed, in the object's field
	// order, LastModifiedDate always among them; empty for other changes.
	ChangedFields []string
	// NulledFields are the fields an update set to null; empty for other changes.
	NulledFields []string
	// CommitTimestamp is when the transaction committed, by the org's clock.
	CommitTimestamp time.Time
	// CommitNumber increases with each committed transaction that changed a record.
	CommitNumber int64
	// CommitUser is the id of the user the change was made as.
	CommitUser string
	// TransactionKey is shared by the changes of one transaction, and by no other.
	TransactionKey string
	// SequenceNumber is the change's place in its transaction, from 1.
	SequenceNumber int
	// Fields are the record's fields after the change, canonical names to
	// stored values (nil is null); the subscriber's own copy.
	Fields map[string]any
	// Lost is how many changes a ChangeGapOverflow stands for.
	Lost int
}

// pendingChange is a change of a Txn not yet committed; at is the index of
// its write's undo step, so RollbackTo drops it with the write.
type pendingChange struct {
	at int
	c  Change
}

// Subscription receives the changes committed after Subscribe returned it.
type Subscription struct {
	s        *Store
	ch       chan Change
	gap      int // changes lost and not yet reported; guarded by the store's lock
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// Subscribe calls fn with each change committed from now on, in commit
// order, from one goroutine of its own, until Close. buffer (at least 1)
// is how many changes may wait for fn before later ones are lost (and
// reported as one ChangeGapOverflow). fn must not write to the store and
// wait for the change it causes: it would wait for itself.
func (s *Store) Subscribe(buffer int, fn func(Change)) *Subscription {
	sub := &Subscription{s: s, ch: make(chan Change, max(buffer, 1)), stop: make(chan struct{}), done: make(chan struct{})}
	s.mu.Lock()
	s.subscribers = append(s.subscribers, sub)
	s.mu.Unlock()
	go func() {
		defer close(sub.done)
		for {
			select {
			case <-sub.stop:
				return
			case c := <-sub.ch:
				fn(c)
			}
		}
	}()
	return sub
}

// Close ends the subscription: changes committed after it returns are not
// delivered, changes still buffered are dropped, and fn is not called again
// once Close has returned. Closing twice is harmless.
func (sub *Subscription) Close() {
	sub.stopOnce.Do(func() {
		sub.s.mu.Lock()
		for i, x := range sub.s.subscribers {
			if x == sub {
				sub.s.subscribers = append(sub.s.subscribers[:i], sub.s.subscribers[i+1:]...)
				break
			}
		}
		sub.s.mu.Unlock()
		close(sub.stop)
	})
	<-sub.done
}

// offer hands c to the subscription without blocking; the store's lock is held.
func (sub *Subscription) offer(c Change) {
	if sub.gap > 0 {
		select {
		case sub.ch <- Change{Type: ChangeGapOverflow, Lost: sub.gap}:
			sub.gap = 0
		default:
			sub.gap++
			return
		}
	}
	select {
	case sub.ch <- c:
	default:
		sub.gap++
	}
}

// recording reports whether a write must note its change: only when someone
// listens, so writes cost nothing extra otherwise. Subscribe takes the
// store's lock, so the answer cannot change during a transaction.
func (t *Txn) recording() bool { return len(t.s.subscribers) > 0 }

// noteChange records the change of r the write whose undo step is the last
// one made; before is r's fields before an update.
func (t *Txn) noteChange(typ ChangeType, r *Record, before map[string]any) {
	if !t.recording() {
		return
	}
	c := Change{Object: r.object.Name, RecordIDs: []string{r.id}, Type: typ, Fields: maps.Clone(r.fields)}
	if typ == ChangeUpdate {
		for _, f := range r.object.Fields {
			old, now := before[f.Name], r.fields[f.Name]
			switch {
			case f.Name == "SystemModstamp":
			case f.Name == "LastModifiedDate" || !reflect.DeepEqual(old, now):
				c.ChangedFields = append(c.ChangedFields, f.Name)
				if now == nil {
					c.NulledFields = append(c.NulledFields, f.Name)
				}
			}
		}
	}
	t.changes = append(t.changes, pendingChange{at: len(t.undo) - 1, c: c})
}

// publish stamps a committed transaction's changes and offers them to every
// subscription; the store's lock is held.
func (t *Txn) publish() {
	if len(t.changes) == 0 {
		return
	}
	s := t.s
	s.commits++
	key := transactionKey()
	now := s.now()
	for i, p := range t.changes {
		for _, sub := range s.subscribers {
			c := p.c // each subscriber gets its own copy
			c.RecordIDs = slices.Clone(c.RecordIDs)
			c.ChangedFields, c.NulledFields = slices.Clone(c.ChangedFields), slices.Clone(c.NulledFields)
			c.Fields = maps.Clone(c.Fields)
			c.CommitTimestamp, c.CommitNumber, c.CommitUser = now, s.commits, s.userID
			c.TransactionKey, c.SequenceNumber = key, i+1
			sub.offer(c)
		}
	}
	t.changes = nil
}

// transactionKey is a random UUID-shaped key, like Salesforce's.
func transactionKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
