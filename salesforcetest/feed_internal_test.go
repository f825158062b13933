package salesforcetest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// feedClient calls the org's REST API as a client would, with a token.
type feedClient struct {
	t     *testing.T
	c     *http.Client
	base  string
	token string
}

func newFeedClient(t *testing.T, org *Org) *feedClient {
	t.Helper()
	c := org.HTTPClient(nil)
	ts, err := auth.NewJWTBearer(auth.JWTBearerConfig{LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		Signer: org.PKI.JWTIdentity.Signer(), HTTPClient: c})
	require.NoError(t, err)
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	return &feedClient{t: t, c: c, base: org.URL + "/services/data/v" + APIVersion, token: string(tok.AccessToken)}
}

func (fc *feedClient) do(method, path, contentType, body string) (int, string) {
	fc.t.Helper()
	req, err := http.NewRequestWithContext(fc.t.Context(), method, fc.base+path, strings.NewReader(body))
	require.NoError(fc.t, err)
	req.Header.Set("Authorization", "Bearer "+fc.token)
	if body != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := fc.c.Do(req)
	require.NoError(fc.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(fc.t, err)
	return resp.StatusCode, string(raw)
}

func (fc *feedClient) json(method, path, body string, wantStatus int) map[string]any {
	fc.t.Helper()
	status, raw := fc.do(method, path, "application/json", body)
	require.Equal(fc.t, wantStatus, status, raw)
	var out map[string]any
	if raw != "" && raw[0] == '{' {
		require.NoError(fc.t, json.Unmarshal([]byte(raw), &out))
	}
	return out
}

// Every committed write publishes its change once, whichever API made it:
// REST create, update, upsert and delete, sObject Collections, Composite,
// sObject Tree and Bulk API 2.0; what allOrNone, a Composite rollback or a
// refused tree undoes publishes nothing. Each "nothing" is proved by the change that arrives next being
// the next step's.
func TestChangeFeedSeesEveryAPIsCommits(t *testing.T) {
	at := time.Now().UTC().Truncate(time.Millisecond) // a clock that stands still, for exact timestamps
	org := NewOrg(t, Config{Now: func() time.Time { return at }, Objects: []SObject{{Name: "Account",
		Fields: []Field{{Name: "Ext__c", Type: TypeString, ExternalID: true, Unique: true}}}}})
	got := make(chan data.Change, 100)
	sub := org.data.Subscribe(100, func(c data.Change) { got <- c })
	t.Cleanup(sub.Close)
	next := func(want data.ChangeType) data.Change {
		t.Helper()
		select {
		case c := <-got:
			require.Equal(t, want, c.Type, "%+v", c)
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("no change was published")
			return data.Change{}
		}
	}
	fc := newFeedClient(t, org)

	// REST create, update, upsert (create, then update) and delete.
	id := fc.json(http.MethodPost, "/sobjects/Account", `{"Name":"Acme"}`, http.StatusCreated)["id"].(string)
	c := next(data.ChangeCreate)
	assert.Equal(t, []string{id}, c.RecordIDs)
	assert.Equal(t, at, c.CommitTimestamp)
	assert.Equal(t, org.userID(org.Username), c.CommitUser)
	fc.json(http.MethodPatch, "/sobjects/Account/"+id, `{"Name":"Acme Corp"}`, http.StatusNoContent)
	c = next(data.ChangeUpdate)
	assert.Equal(t, []string{"LastModifiedDate", "Name"}, c.ChangedFields)
	assert.Equal(t, "Acme Corp", c.Fields["Name"])
	upserted := fc.json(http.MethodPatch, "/sobjects/Account/Ext__c/E-1", `{"Name":"Upserted"}`, http.StatusCreated)["id"].(string)
	assert.Equal(t, []string{upserted}, next(data.ChangeCreate).RecordIDs)
	fc.json(http.MethodPatch, "/sobjects/Account/Ext__c/E-1", `{"Name":"Upserted again"}`, http.StatusOK)
	assert.Equal(t, "Upserted again", next(data.ChangeUpdate).Fields["Name"])
	fc.json(http.MethodDelete, "/sobjects/Account/"+upserted, "", http.StatusNoContent)
	assert.Equal(t, []string{upserted}, next(data.ChangeDelete).RecordIDs)

	// Collections: without allOrNone the valid record commits, the invalid
	// one publishes nothing; with allOrNone and a failure nothing commits.
	fc.do(http.MethodPost, "/composite/sobjects", "application/json", `{"allOrNone":false,"records":[`+
		`{"attributes":{"type":"Account"},"Name":"Coll 1"},{"attributes":{"type":"Account"}}]}`)
	assert.Equal(t, "Coll 1", next(data.ChangeCreate).Fields["Name"])
	fc.do(http.MethodPost, "/composite/sobjects", "application/json", `{"allOrNone":true,"records":[`+
		`{"attributes":{"type":"Account"},"Name":"Rolled back"},{"attributes":{"type":"Account"}}]}`)

	// Composite: a failed subrequest under allOrNone rolls back all;
	// committed subrequests share one transaction key.
	fc.do(http.MethodPost, "/composite", "application/json", `{"allOrNone":true,"compositeRequest":[`+
		`{"method":"POST","url":"/services/data/v`+APIVersion+`/sobjects/Account","referenceId":"a","body":{"Name":"Rolled back too"}},`+
		`{"method":"POST","url":"/services/data/v`+APIVersion+`/sobjects/Account","referenceId":"b","body":{}}]}`)
	fc.do(http.MethodPost, "/composite", "application/json", `{"allOrNone":true,"compositeRequest":[`+
		`{"method":"POST","url":"/services/data/v`+APIVersion+`/sobjects/Account","referenceId":"a","body":{"Name":"Comp 1"}},`+
		`{"method":"PATCH","url":"/services/data/v`+APIVersion+`/sobjects/Account/@{a.id}","referenceId":"b","body":{"Name":"Comp 1b"}}]}`)
	c1, c2 := next(data.ChangeCreate), next(data.ChangeUpdate)
	assert.Equal(t, "Comp 1", c1.Fields["Name"], "the rolled-back requests published nothing")
	assert.Equal(t, "Comp 1b", c2.Fields["Name"])
	assert.Equal(t, c1.TransactionKey, c2.TransactionKey)
	assert.Equal(t, c1.RecordIDs, c2.RecordIDs)

	// sObject Tree: all or none (REST API Developer Guide, "Create Nested
	// Records"), so a tree with an invalid record publishes nothing, and a
	// valid one publishes its records as one transaction.
	fc.do(http.MethodPost, "/composite/tree/Account", "application/json", `{"records":[`+
		`{"attributes":{"type":"Account","referenceId":"r1"},"Name":"Tree rolled back"},{"attributes":{"type":"Account","referenceId":"r2"}}]}`)
	status, raw := fc.do(http.MethodPost, "/composite/tree/Account", "application/json", `{"records":[`+
		`{"attributes":{"type":"Account","referenceId":"r1"},"Name":"Tree 1"},{"attributes":{"type":"Account","referenceId":"r2"},"Name":"Tree 2"}]}`)
	require.Equal(t, http.StatusCreated, status, raw)
	t1, t2 := next(data.ChangeCreate), next(data.ChangeCreate)
	assert.Equal(t, "Tree 1", t1.Fields["Name"], "the refused tree published nothing")
	assert.Equal(t, "Tree 2", t2.Fields["Name"])
	assert.Equal(t, t1.TransactionKey, t2.TransactionKey)

	// Bulk API 2.0: each stored row publishes; a failed row does not.
	job := fc.json(http.MethodPost, "/jobs/ingest", `{"object":"Account","operation":"insert"}`, http.StatusOK)
	jobID := job["id"].(string)
	status, raw = fc.do(http.MethodPut, "/jobs/ingest/"+jobID+"/batches", "text/csv", "Name\nBulk 1\n\nBulk 2\n")
	require.Equal(t, http.StatusCreated, status, raw)
	fc.json(http.MethodPatch, "/jobs/ingest/"+jobID, `{"state":"UploadComplete"}`, http.StatusOK)
	<-org.JobProcessed(jobID)
	assert.Equal(t, "Bulk 1", next(data.ChangeCreate).Fields["Name"])
	assert.Equal(t, "Bulk 2", next(data.ChangeCreate).Fields["Name"])
	select {
	case c := <-got:
		t.Fatalf("an unexpected change: %+v", c)
	default:
	}
}
