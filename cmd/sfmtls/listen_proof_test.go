package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/redisserver"
	"github.com/sfmtls/sfmtls/internal/testtool"
)

// runAsTool makes the test binary run as sfmtls (TestMain calls main).
const runAsTool = "SFMTLS_TEST_RUN_AS_TOOL"

// listener is `sfmtls listen` in a process of its own, whose printed orders
// (Order_Number__c of each line) are collected as they come.
type listener struct {
	name   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	orders []string
	stderr *syncBuffer
	done   chan struct{} // closed once the process ended and its output is read
}

func startListener(t *testing.T, name string, vars map[string]string, args ...string) *listener {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	l := &listener{name: name, stderr: &syncBuffer{}, done: make(chan struct{})}
	l.cmd = exec.Command(exe, append([]string{"listen"}, args...)...)
	l.cmd.Env = append(os.Environ(), runAsTool+"=1")
	for k, v := range vars {
		l.cmd.Env = append(l.cmd.Env, k+"="+v)
	}
	l.cmd.Stderr = l.stderr
	out, err := l.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, l.cmd.Start())
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev struct {
				Data struct{ Order_Number__c string } `json:"data"`
			}
			if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Data.Order_Number__c == "" {
				t.Errorf("%s printed %q", name, sc.Text())
				continue
			}
			l.mu.Lock()
			l.orders = append(l.orders, ev.Data.Order_Number__c)
			l.mu.Unlock()
		}
	}()
	go func() {
		<-read // every line printed before the process ended is read
		_ = l.cmd.Wait()
		close(l.done)
	}()
	t.Cleanup(func() {
		_ = l.cmd.Process.Kill()
		<-l.done
	})
	return l
}

func (l *listener) printed() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.orders)
}

// kill ends the process with SIGKILL, as a crash or an OOM killer does.
func (l *listener) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, l.cmd.Process.Signal(syscall.SIGKILL))
	select {
	case <-l.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not die", l.name)
	}
}

// interrupt sends SIGINT (Ctrl-C) and returns the exit status.
func (l *listener) interrupt(t *testing.T) int {
	t.Helper()
	require.NoError(t, l.cmd.Process.Signal(os.Interrupt))
	select {
	case <-l.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop after Ctrl-C", l.name)
	}
	return l.cmd.ProcessState.ExitCode()
}

// publisher publishes orders 1, 2, ... through the SDK, each once.
type publisher struct {
	mu   sync.Mutex
	sent []string
}

func (p *publisher) publish(t *testing.T, ctx context.Context, c *client.Client, n int) {
	for range n {
		p.mu.Lock()
		number := fmt.Sprintf("order-%03d", len(p.sent)+1)
		p.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		_, err := c.Create(ctx, "Order_Placed__e", map[string]any{"Order_Number__c": number})
		if ctx.Err() != nil {
			return // not sent, or its outcome is unknown: not counted
		}
		if !assert.NoError(t, err) {
			return
		}
		p.mu.Lock()
		p.sent = append(p.sent, number)
		p.mu.Unlock()
	}
}

func (p *publisher) all() []string { p.mu.Lock(); defer p.mu.Unlock(); return slices.Clone(p.sent) }

// waitFor waits until cond holds, reporting what was printed if it never does.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool, ls ...*listener) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			for _, l := range ls {
				t.Logf("%s printed %v; stderr: %s", l.name, l.printed(), l.stderr.String())
			}
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkDelivery: every order published was printed, and an order printed
// twice is only the last one the killed process printed (docs/events.md:
// the event whose line was printed when the process died, before its
// position was saved).
func checkDelivery(t *testing.T, sent []string, killed []string, all ...[]string) {
	t.Helper()
	count := map[string]int{}
	for _, printed := range all {
		for _, o := range printed {
			count[o]++
		}
	}
	for _, o := range sent {
		assert.GreaterOrEqual(t, count[o], 1, "order %s lost", o)
	}
	for o, n := range count {
		if n > 1 {
			assert.Equal(t, 2, n, "order %s printed %d times", o, n)
			require.NotEmpty(t, killed)
			assert.Equal(t, killed[len(killed)-1], o, "only the killed process's last line is printed again")
		}
	}
}

// Issue 24's proof for one machine: a listener killed with SIGKILL
// mid-stream and started again prints every event, an event twice only as
// the docs say, from the position in the file store.
func TestListenSurvivesSIGKILL(t *testing.T) {
	org, vars := listenOrg(t)
	c := org.Client(t)
	args := []string{"/event/Order_Placed__e", "--replay", "all", "--lease-ttl", "2s"}
	first := startListener(t, "first", vars, args...)
	pub := &publisher{}
	ctx, cancel := context.WithCancel(t.Context())
	published := make(chan struct{})
	go func() { defer close(published); pub.publish(t, ctx, c, 60) }()

	waitFor(t, "the first listener prints 10 events", time.Minute, func() bool { return len(first.printed()) >= 10 }, first)
	first.kill(t) // mid-stream: orders are still being published
	killedAt := first.printed()
	<-published
	cancel()
	require.Len(t, pub.all(), 60)
	require.Less(t, len(killedAt), 60, "killed before it printed everything")

	second := startListener(t, "second", vars, args...)
	waitFor(t, "the restarted listener prints the rest", time.Minute, func() bool {
		return len(killedAt)+len(second.printed()) >= 60
	}, first, second)
	assert.Equal(t, exitInterrupted, second.interrupt(t), second.stderr.String())
	checkDelivery(t, pub.all(), killedAt, killedAt, second.printed())
	t.Logf("killed after %d events; the restart printed %d", len(killedAt), len(second.printed()))
}

// Issue 24's proof for a fleet: two processes listen to one channel through
// a real redis-server; one prints, the other waits under the lease; when the
// one printing is killed, the other takes over within seconds from the
// saved position, losing nothing.
func TestListenFleetFailsOverThroughRedis(t *testing.T) {
	testtool.Need(t, "redis-server")
	rs := redisserver.Start(t)
	org, vars := listenOrg(t)
	vars["SF_TOKEN_STORE"] = rs.URL()
	c := org.Client(t)
	args := []string{"/event/Order_Placed__e", "--replay", "all", "--lease-ttl", "2s"}
	a := startListener(t, "a", vars, args...)
	b := startListener(t, "b", vars, args...)

	pub := &publisher{}
	pub.publish(t, t.Context(), c, 20)
	waitFor(t, "one process prints the first 20 events", time.Minute, func() bool {
		return len(a.printed())+len(b.printed()) >= 20
	}, a, b)
	active, standby := a, b
	if len(b.printed()) > 0 {
		active, standby = b, a
	}
	assert.Empty(t, standby.printed(), "one process listens at a time")
	assert.Len(t, active.printed(), 20)

	ctx, cancel := context.WithCancel(t.Context())
	published := make(chan struct{})
	go func() {
		defer close(published)
		for ctx.Err() == nil && len(pub.all()) < 200 {
			pub.publish(t, ctx, c, 1)
			time.Sleep(20 * time.Millisecond) // a steady stream while the fleet fails over
		}
	}()
	waitFor(t, "the active process prints more", time.Minute, func() bool { return len(active.printed()) >= 25 }, a, b)
	active.kill(t)
	killedAt, diedAt := active.printed(), time.Now()
	waitFor(t, "the standby takes over", time.Minute, func() bool { return len(standby.printed()) > 0 }, a, b)
	failover := time.Since(diedAt)
	waitFor(t, "the standby prints on", time.Minute, func() bool { return len(standby.printed()) >= 10 }, a, b)
	cancel()
	<-published
	sent := pub.all()
	waitFor(t, "the standby prints every event", time.Minute, func() bool {
		return len(killedAt)+len(standby.printed()) >= len(sent)
	}, a, b)
	assert.Equal(t, exitInterrupted, standby.interrupt(t), standby.stderr.String())
	checkDelivery(t, sent, killedAt, killedAt, standby.printed())
	assert.Less(t, failover, 10*time.Second, "the standby takes over within seconds (lease TTL 2s)")
	t.Logf("failover after SIGKILL: %s (lease TTL 2s); %d events published, %d printed by the killed process, %d by the standby",
		failover.Round(time.Millisecond), len(sent), len(killedAt), len(standby.printed()))
}
