package events_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/internal/errs"
)

// The file store keeps positions and leases; its SavePosition's error is
// events.ErrLeaseLost, which auth cannot import and names through
// internal/errs. The cases every store passes are in internal/storetest.
var _ events.Store = (*auth.FileStore)(nil)

func TestErrLeaseLostIsTheStoresValue(t *testing.T) {
	assert.Same(t, errs.ErrLeaseLost, events.ErrLeaseLost)
}
