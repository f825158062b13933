package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/internal/redisserver"
	"github.com/sfmtls/sfmtls/internal/testtool"
	"github.com/sfmtls/sfmtls/pubsub"
	"github.com/sfmtls/sfmtls/pubsub/pubsubtest"
)

// pubsubProofEnv is listenOrg with a fake Pub/Sub API serving
// /event/Order_Placed__e, the settings pointing at it, and a client that
// publishes orders 1, 2, ... through it.
func pubsubProofEnv(t *testing.T) (map[string]string, func(ctx context.Context, n int) []string) {
	t.Helper()
	org, vars := listenOrg(t)
	srv := pubsubtest.New(t, org)
	srv.AddTopic("/event/Order_Placed__e", pubsubOrderSchema)
	ca := filepath.Join(t.TempDir(), "pubsub-ca.pem")
	require.NoError(t, os.WriteFile(ca, srv.CertificatePEM(), 0o600))
	vars["SF_PUBSUB_ENDPOINT"], vars["SF_PUBSUB_CA_FILE"] = srv.Addr, ca
	ps, err := pubsub.New(srv.Config(org.Client(t)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ps.Close() })
	var sent []string
	publish := func(ctx context.Context, n int) []string {
		for range n {
			number := fmt.Sprintf("order-%03d", len(sent)+1)
			res, err := ps.Publish(ctx, "/event/Order_Placed__e", pubsub.Message{Fields: map[string]any{
				"CreatedDate": time.Now().UnixMilli(), "CreatedById": "", "Order_Number__c": number}})
			if ctx.Err() != nil {
				break // not sent, or its outcome is unknown: not counted
			}
			if assert.NoError(t, err) && assert.NoError(t, res[0].Err) {
				sent = append(sent, number)
			}
		}
		return sent
	}
	return vars, publish
}

// Issue 24's SIGKILL proof through the Pub/Sub API: a listener killed
// mid-stream and started again prints every event, an event twice only as
// docs/events.md says.
func TestListenPubSubSurvivesSIGKILL(t *testing.T) {
	vars, publish := pubsubProofEnv(t)
	args := []string{"--pubsub", "/event/Order_Placed__e", "--replay", "all", "--lease-ttl", "2s"}
	publish(t.Context(), 30)
	first := startListener(t, "first", vars, args...)
	waitFor(t, "the first listener prints 10 events", time.Minute, func() bool { return len(first.printed()) >= 10 }, first)
	first.kill(t)
	killedAt := first.printed()
	sent := publish(t.Context(), 30)
	require.Len(t, sent, 60)
	require.Less(t, len(killedAt), 60)

	second := startListener(t, "second", vars, args...)
	waitFor(t, "the restarted listener prints the rest", time.Minute, func() bool {
		return len(killedAt)+len(second.printed()) >= 60
	}, first, second)
	assert.Equal(t, exitInterrupted, second.interrupt(t), second.stderr.String())
	checkDelivery(t, sent, killedAt, killedAt, second.printed())
}

// Issue 24's fleet proof through the Pub/Sub API and a real redis-server:
// the standby takes over from the saved position when the listening
// process is killed.
func TestListenPubSubFleetFailsOverThroughRedis(t *testing.T) {
	testtool.Need(t, "redis-server")
	rs := redisserver.Start(t)
	vars, publish := pubsubProofEnv(t)
	vars["SF_TOKEN_STORE"] = rs.URL()
	args := []string{"--pubsub", "/event/Order_Placed__e", "--replay", "all", "--lease-ttl", "2s"}
	a := startListener(t, "a", vars, args...)
	b := startListener(t, "b", vars, args...)
	publish(t.Context(), 20)
	waitFor(t, "one process prints the first 20 events", time.Minute, func() bool {
		return len(a.printed())+len(b.printed()) >= 20
	}, a, b)
	active, standby := a, b
	if len(b.printed()) > 0 {
		active, standby = b, a
	}
	assert.Empty(t, standby.printed(), "one process listens at a time")
	active.kill(t)
	killedAt, diedAt := active.printed(), time.Now()
	sent := publish(t.Context(), 20)
	waitFor(t, "the standby prints every event", time.Minute, func() bool {
		return len(killedAt)+len(standby.printed()) >= len(sent)
	}, a, b)
	failover := time.Since(diedAt)
	assert.Equal(t, exitInterrupted, standby.interrupt(t), standby.stderr.String())
	checkDelivery(t, sent, killedAt, killedAt, standby.printed())
	assert.Less(t, failover, 10*time.Second, "the standby takes over within seconds (lease TTL 2s)")
}
