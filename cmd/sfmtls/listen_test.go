package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// listenOrg is a fake org with the platform event Order_Placed__e, and the
// SF_* settings to reach it with a file store of the test's own.
func listenOrg(t *testing.T) (*salesforcetest.Org, map[string]string) {
	t.Helper()
	org, vars := orgEnv(t)
	require.NoError(t, org.Setup().DefinePlatformEvent("Order_Placed__e",
		salesforcetest.Field{Name: "Order_Number__c", Type: salesforcetest.TypeString}))
	vars["SF_TOKEN_STORE"] = "file:" + t.TempDir()
	return org, vars
}

// listening runs `sfmtls listen args...` in-process until stop, which cancels
// its context as Ctrl-C does and returns its exit status.
func listening(t *testing.T, vars map[string]string, args ...string) (out, errOut *syncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut = &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(append([]string{"listen"}, args...), &env{ctx: ctx, stdout: out, stderr: errOut, getenv: func(k string) string { return vars[k] }})
	}()
	code, stopped := 0, false
	stop = func() int {
		if !stopped {
			stopped = true
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Error("listen did not stop after Ctrl-C")
			}
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return out, errOut, stop
}

func lines(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func waitLines(t *testing.T, b *syncBuffer, n int, errOut *syncBuffer) []string {
	t.Helper()
	require.Eventually(t, func() bool { return len(lines(b.String())) >= n }, 30*time.Second, 10*time.Millisecond,
		"%d lines of %d; stderr: %s", len(lines(b.String())), n, errOut.String())
	return lines(b.String())
}

// publish publishes an order through the tool, as a user would.
func publish(t *testing.T, vars map[string]string, number string) string {
	t.Helper()
	r := sfmtls(t, vars, nil, "publish", "/event/Order_Placed__e", "--data", `{"Order_Number__c":"`+number+`"}`)
	require.Equal(t, 0, r.code, r.stderr)
	var ans struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &ans), r.stdout)
	require.True(t, ans.Success)
	require.NotEmpty(t, ans.ID)
	return ans.ID
}

// publish inserts the event object; listen prints each event as a JSON line,
// stops on Ctrl-C with exit status 130, and the next run resumes after the
// last event printed (the position is kept in the token store's place).
func TestPublishAndListen(t *testing.T) {
	_, vars := listenOrg(t)
	out, errOut, stop := listening(t, vars, "/event/Order_Placed__e", "--replay", "all")
	publish(t, vars, "A-1")
	publish(t, vars, "A-2")
	got := waitLines(t, out, 2, errOut)
	assert.Equal(t, exitInterrupted, stop(), errOut.String())
	assert.Contains(t, errOut.String(), "interrupted")
	var ev struct {
		Channel  string `json:"channel"`
		ReplayID int64  `json:"replayId"`
		Time     string `json:"time"`
		Data     struct {
			Order_Number__c string
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(got[0]), &ev), got[0])
	assert.Equal(t, "/event/Order_Placed__e", ev.Channel)
	assert.NotZero(t, ev.ReplayID)
	assert.Equal(t, "A-1", ev.Data.Order_Number__c)

	publish(t, vars, "A-3")
	out, errOut, stop = listening(t, vars, "/event/Order_Placed__e", "--replay", "all")
	got = waitLines(t, out, 1, errOut)
	assert.Equal(t, exitInterrupted, stop())
	require.Len(t, got, 1, "only the event after the saved position")
	assert.Contains(t, got[0], `"A-3"`)
}

func TestListenAndPublishUsage(t *testing.T) {
	_, vars := listenOrg(t)
	for _, args := range [][]string{
		{"publish", "Order_Placed__e", "--data", `{}`},
		{"publish", "/event/Order_Placed__e", "--data", `[1]`},
		{"publish", "/event/Order_Placed__e", "--data", `{"a":1} {"b":2}`},
		{"publish", "/event/Order_Placed__e"},
		{"listen", "Account"},
		{"listen", "/event/Order_Placed__e", "--replay", "yesterday"},
		{"listen", "/event/Order_Placed__e", "-o", "csv"},
		{"listen", "trigger:Account", "--replay", "42"},
		{"listen", "/event/Order_Placed__e", "--if-gone", "maybe"},
	} {
		r := sfmtls(t, vars, nil, args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stderr)
	}
}

// A change trigger through the tool: a created record is printed with its
// change header.
func TestListenTrigger(t *testing.T) {
	org, vars := listenOrg(t)
	id := org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"})[0]
	out, errOut, stop := listening(t, vars, "trigger:Account:CREATE", "--replay", "all", "--poll-interval", "20ms", "--lag", "1ms")
	got := waitLines(t, out, 1, errOut)
	assert.Equal(t, exitInterrupted, stop())
	var ev struct {
		Channel string `json:"channel"`
		Change  struct {
			EntityName string   `json:"entityName"`
			RecordIDs  []string `json:"recordIds"`
			ChangeType string   `json:"changeType"`
		} `json:"change"`
	}
	require.NoError(t, json.Unmarshal([]byte(got[0]), &ev))
	assert.Equal(t, "trigger:Account:CREATE", ev.Channel)
	assert.Equal(t, "Account", ev.Change.EntityName)
	assert.Equal(t, []string{id}, ev.Change.RecordIDs)
	assert.Equal(t, "CREATE", ev.Change.ChangeType)
}
