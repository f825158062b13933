package data

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// feedStore is a store with a user and a fixed clock, and a subscription
// whose changes arrive on the returned channel.
func feedStore(t *testing.T, buffer int) (*Store, time.Time, <-chan Change) {
	t.Helper()
	at := time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)
	s := NewStore(func() time.Time { return at })
	s.SetUserID("005000000000001AAA")
	got := make(chan Change)
	sub := s.Subscribe(buffer, func(c Change) {
		select {
		case got <- c:
		case <-t.Context().Done():
		}
	})
	t.Cleanup(sub.Close)
	return s, at, got
}

// next returns the next change, failing the test if none comes.
func next(t *testing.T, got <-chan Change) Change {
	t.Helper()
	select {
	case c := <-got:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no change was published")
		return Change{}
	}
}

func create(t *testing.T, s *Store, object string, fields map[string]any) string {
	t.Helper()
	var id string
	require.Nil(t, s.Transaction(func(tx *Txn) *APIError {
		var e *APIError
		id, e = tx.Create(object, fields)
		return e
	}))
	return id
}

// Change Data Capture Developer Guide, "ChangeEventHeader Fields": each
// change names its object, record ids, changeType (CREATE, UPDATE, DELETE,
// UNDELETE), changedFields (updates only, with LastModifiedDate),
// nulledFields, commitTimestamp, commitUser, sequenceNumber and
// transactionKey.
func TestFeedPublishesEachCommittedChange(t *testing.T) {
	s, at, got := feedStore(t, 10)
	id := create(t, s, "Account", map[string]any{"Name": "Acme", "Industry": "Banking"})
	c := next(t, got)
	assert.Equal(t, "Account", c.Object)
	assert.Equal(t, []string{id}, c.RecordIDs)
	assert.Equal(t, ChangeCreate, c.Type)
	assert.Empty(t, c.ChangedFields, "empty for a create")
	assert.Equal(t, at, c.CommitTimestamp)
	assert.Equal(t, "005000000000001AAA", c.CommitUser)
	assert.Equal(t, 1, c.SequenceNumber)
	assert.NotEmpty(t, c.TransactionKey)
	assert.Equal(t, "Acme", c.Fields["Name"])
	assert.Equal(t, id, c.Fields["Id"])
	first := c

	require.Nil(t, s.Transaction(func(tx *Txn) *APIError {
		return tx.Update("Account", id, map[string]any{"Name": "Acme Corp", "Industry": nil})
	}))
	c = next(t, got)
	assert.Equal(t, ChangeUpdate, c.Type)
	assert.Equal(t, []string{"LastModifiedDate", "Name", "Industry"}, c.ChangedFields)
	assert.Equal(t, []string{"Industry"}, c.NulledFields)
	assert.Equal(t, "Acme Corp", c.Fields["Name"])
	assert.Nil(t, c.Fields["Industry"])
	assert.Greater(t, c.CommitNumber, first.CommitNumber)
	assert.NotEqual(t, first.TransactionKey, c.TransactionKey)

	require.Nil(t, s.Transaction(func(tx *Txn) *APIError { return tx.Delete("Account", id) }))
	c = next(t, got)
	assert.Equal(t, ChangeDelete, c.Type)
	assert.Equal(t, true, c.Fields["IsDeleted"])

	require.Nil(t, s.Transaction(func(tx *Txn) *APIError { return tx.Undelete("Account", id) }))
	c = next(t, got)
	assert.Equal(t, ChangeUndelete, c.Type)
	assert.Equal(t, false, c.Fields["IsDeleted"])
	assert.Equal(t, "Acme Corp", c.Fields["Name"])

	// The subscriber's copy is its own: changing it changes no record.
	c.Fields["Name"] = "scribbled"
	fields, _ := s.Snapshot("Account", id)
	assert.Equal(t, "Acme Corp", fields["Name"])
}

// A transaction that fails publishes nothing; within one that commits, the
// writes RollbackTo undid publish nothing either (a failed record of a
// collection without allOrNone). The changes of one transaction share its
// key and are numbered in order.
func TestFeedPublishesNothingRolledBack(t *testing.T) {
	s, _, got := feedStore(t, 10)
	err := s.Transaction(func(tx *Txn) *APIError {
		if _, e := tx.Create("Account", map[string]any{"Name": "Undone"}); e != nil {
			return e
		}
		return apiErr(http.StatusBadRequest, "ALL_OR_NONE_OPERATION_ROLLED_BACK", "undo")
	})
	require.NotNil(t, err)
	require.Nil(t, s.Transaction(func(tx *Txn) *APIError {
		if _, e := tx.Create("Account", map[string]any{"Name": "Kept 1"}); e != nil {
			return e
		}
		sp := tx.Savepoint()
		if _, e := tx.Create("Account", map[string]any{"Name": "Undone 2"}); e != nil {
			return e
		}
		tx.RollbackTo(sp)
		_, e := tx.Create("Account", map[string]any{"Name": "Kept 2"})
		return e
	}))
	a, b := next(t, got), next(t, got)
	assert.Equal(t, "Kept 1", a.Fields["Name"], "the failed transaction published nothing")
	assert.Equal(t, "Kept 2", b.Fields["Name"], "the undone write published nothing")
	assert.Equal(t, a.TransactionKey, b.TransactionKey)
	assert.Equal(t, a.CommitNumber, b.CommitNumber)
	assert.Equal(t, []int{1, 2}, []int{a.SequenceNumber, b.SequenceNumber})

	// A purge publishes no change of its own: the delete before it did.
	id := create(t, s, "Account", map[string]any{"Name": "Hard"})
	next(t, got)
	require.Nil(t, s.Transaction(func(tx *Txn) *APIError {
		id18, _ := NormalizeID(id)
		if e := tx.Delete("Account", id18); e != nil {
			return e
		}
		tx.Purge(id18)
		return nil
	}))
	assert.Equal(t, ChangeDelete, next(t, got).Type)
	create(t, s, "Account", map[string]any{"Name": "Fence"})
	assert.Equal(t, "Fence", next(t, got).Fields["Name"])
}

// A subscriber that falls behind its buffer never holds a writer up: the
// changes that do not fit are lost and reported as one GAP_OVERFLOW (Change
// Data Capture Developer Guide, "Gap Events" and "Overflow Events") before
// the next change it gets.
func TestFeedSlowSubscriberGetsAGapNotAStall(t *testing.T) {
	at := time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)
	s := NewStore(func() time.Time { return at })
	s.SetUserID("005000000000001AAA")
	stuck, release := make(chan struct{}), make(chan struct{})
	got := make(chan Change)
	sub := s.Subscribe(2, func(c Change) {
		if c.Fields["Name"] == "1" {
			close(stuck)
			<-release
		}
		got <- c
	})
	t.Cleanup(sub.Close)
	create(t, s, "Account", map[string]any{"Name": "1"})
	<-stuck // 1 has left the buffer: 2 and 3 fill it
	for _, name := range []string{"2", "3", "4", "5"} {
		create(t, s, "Account", map[string]any{"Name": name}) // returns though the subscriber is stuck
	}
	close(release)
	for _, want := range []string{"1", "2", "3"} {
		assert.Equal(t, want, next(t, got).Fields["Name"])
	}
	create(t, s, "Account", map[string]any{"Name": "6"})
	gap := next(t, got)
	assert.Equal(t, ChangeGapOverflow, gap.Type)
	assert.Equal(t, 2, gap.Lost, "4 and 5 did not fit")
	assert.Equal(t, "6", next(t, got).Fields["Name"])
}

// Close stops delivery: no change reaches the function after Close returns.
func TestFeedCloseStopsDelivery(t *testing.T) {
	s := NewStore(nil)
	s.SetUserID("005000000000001AAA")
	calls := make(chan Change, 10)
	sub := s.Subscribe(10, func(c Change) { calls <- c })
	create(t, s, "Account", map[string]any{"Name": "before"})
	assert.Equal(t, "before", next(t, calls).Fields["Name"])
	sub.Close()
	sub.Close()
	create(t, s, "Account", map[string]any{"Name": "after"})
	assert.Empty(t, calls)
}

// Undelete refuses a record that is not deleted, and a unique value a live
// record took meanwhile.
func TestUndeleteErrors(t *testing.T) {
	s := NewStore(nil)
	s.SetUserID("005000000000001AAA")
	require.NoError(t, s.DefineFields("Account", Field{Name: "Ext__c", Type: TypeString, ExternalID: true, Unique: true}))
	id := create(t, s, "Account", map[string]any{"Name": "A", "Ext__c": "X-1"})
	err := s.Transaction(func(tx *Txn) *APIError { return tx.Undelete("Account", id) })
	require.NotNil(t, err)
	assert.Equal(t, "UNDELETE_FAILED", err.ErrorCode)
	require.Nil(t, s.Transaction(func(tx *Txn) *APIError { return tx.Delete("Account", id) }))
	create(t, s, "Account", map[string]any{"Name": "B", "Ext__c": "x-1"})
	err = s.Transaction(func(tx *Txn) *APIError { return tx.Undelete("Account", id) })
	require.NotNil(t, err)
	assert.Equal(t, "DUPLICATE_VALUE", err.ErrorCode)
	fields, _ := s.Snapshot("Account", id)
	assert.Equal(t, true, fields["IsDeleted"], "the refused undelete left the record deleted")
}
