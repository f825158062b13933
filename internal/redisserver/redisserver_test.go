package redisserver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The server answers, stops answering when stopped, and answers again on the
// same address when started again.
func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	require.NoError(t, ping(s.Addr()))
	assert.Equal(t, "redis://"+s.Addr()+"/0", s.URL())
	s.Stop()
	assert.Error(t, ping(s.Addr()))
	s.Stop() // idempotent
	s.Start()
	assert.NoError(t, ping(s.Addr()))
}
