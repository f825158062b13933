package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/pubsub/pubsubtest"
)

const pubsubOrderSchema = `{"type":"record","name":"Order_Placed__e","fields":[{"name":"CreatedDate","type":"long"},
{"name":"CreatedById","type":"string"},{"name":"Order_Number__c","type":["null","string"],"default":null}]}`

// listen --pubsub and publish --pubsub go through the Pub/Sub API with the
// same settings, store and lease as the Streaming listener; the next run
// resumes after the last line printed.
func TestListenAndPublishThroughPubSub(t *testing.T) {
	org, vars := listenOrg(t)
	srv := pubsubtest.New(t, org)
	srv.AddTopic("/event/Order_Placed__e", pubsubOrderSchema)
	ca := filepath.Join(t.TempDir(), "pubsub-ca.pem")
	require.NoError(t, os.WriteFile(ca, srv.CertificatePEM(), 0o600))
	vars["SF_PUBSUB_ENDPOINT"], vars["SF_PUBSUB_CA_FILE"] = srv.Addr, ca

	pub := func(number string) {
		t.Helper()
		r := sfmtls(t, vars, nil, "publish", "--pubsub", "/event/Order_Placed__e", "--data", `{"Order_Number__c":"`+number+`"}`)
		require.Equal(t, 0, r.code, r.stderr)
		var ans struct {
			Success  bool   `json:"success"`
			ReplayID []byte `json:"replayId"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &ans), r.stdout)
		assert.True(t, ans.Success)
		assert.NotEmpty(t, ans.ReplayID)
	}
	pub("A-1")
	pub("A-2")
	out, errOut, stop := listening(t, vars, "--pubsub", "/event/Order_Placed__e", "--replay", "all")
	got := waitLines(t, out, 2, errOut)
	var line struct {
		Channel string `json:"channel"`
		Data    struct {
			Number string `json:"Order_Number__c"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(got[1]), &line))
	assert.Equal(t, "/event/Order_Placed__e", line.Channel)
	assert.Equal(t, "A-2", line.Data.Number)
	assert.Equal(t, exitInterrupted, stop())

	pub("A-3")
	out, errOut, stop = listening(t, vars, "--pubsub", "/event/Order_Placed__e", "--replay", "all")
	got = waitLines(t, out, 1, errOut)
	require.NoError(t, json.Unmarshal([]byte(got[0]), &line))
	assert.Equal(t, "A-3", line.Data.Number, "resumes after the last line printed")
	stop()
	assert.Empty(t, srv.Violations())

	r := sfmtls(t, vars, nil, "listen", "--pubsub", "trigger:Account")
	assert.Equal(t, 2, r.code, r.stderr)
}
