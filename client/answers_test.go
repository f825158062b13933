package client_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Record ids for answers made up by the tests.
const (
	idA = "001000000000001AAA"
	idB = "001000000000002AAA"
	idC = "001000000000003AAA"
)

// answerWith answers every request with the JSON of answer(n), n counting
// requests from 0, and counts them.
func answerWith(requests *atomic.Int64, answer func(n int64) any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := requests.Add(1) - 1
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_ = json.NewEncoder(w).Encode(answer(n))
	})
}

func ok(id string) map[string]any {
	return map[string]any{"id": id, "success": true, "errors": []any{}}
}

// failedNoID is a failed record as the Guide's examples show it: no id, the
// error under statusCode.
func failedNoID(code string) map[string]any {
	return map[string]any{"success": false, "errors": []any{map[string]any{"statusCode": code, "message": "x", "fields": []any{}}}}
}

// mismatch checks that err reports one chunk whose answer did not match: a
// *CollectionError whose only chunk failed with an *AnswerMismatchError,
// outcome unknown, its records' results left at zero values, the write sent once.
func mismatch(t *testing.T, results []client.SaveResult, err error, requests *atomic.Int64, reason string) {
	t.Helper()
	var ce *client.CollectionError
	require.ErrorAs(t, err, &ce, "a mismatch is never a success")
	var me *client.AnswerMismatchError
	require.ErrorAs(t, err, &me)
	assert.Contains(t, me.Reason, reason)
	require.Len(t, ce.Chunks, 1)
	assert.Equal(t, client.ChunkFailed, ce.Chunks[0].State)
	assert.True(t, ce.Chunks[0].OutcomeUnknown(), "a write whose answer does not match: outcome unknown")
	assert.Contains(t, err.Error(), "outcome unknown")
	assert.Contains(t, err.Error(), fmt.Sprintf("records 0–%d", len(results)-1))
	for i, r := range results {
		assert.Equal(t, client.SaveResult{}, r, "result %d: no result taken from an answer that does not match", i)
	}
	assert.Equal(t, int64(1), requests.Load(), "the write is sent once, never again")
}

// The answers of sObject Collections are checked against the records sent.
// REST API Developer Guide: "Update Records Using sObject Collections" ("The
// SaveResult objects are returned in the order in which the update requests
// were specified") and "Delete Records Using sObject Collections" ("The
// DeleteResult objects are returned in the order in which the IDs of the
// deleted objects were specified"): each result names the id of the record at
// its place; the examples answer a failed record (MALFORMED_ID) with no id.
// "Create Records Using sObject Collections" and "Upsert Records Using sObject
// Collections": a success carries the id of the record created or matched, so
// no two successes name the same record.
func TestCollectionsAnswersMustMatchTheRecordsSent(t *testing.T) {
	updates := []extAccount{{ID: idA, Industry: "Energy"}, {ID: idB, Industry: "Energy"}}
	cases := []struct {
		name   string
		route  string
		answer any
		call   func(c *client.Client) ([]client.SaveResult, error)
		reason string // "" for an answer that matches
	}{
		{"update answered in another order", "PATCH " + dataPath + "/composite/sobjects",
			[]any{ok(idB), ok(idA)},
			func(c *client.Client) ([]client.SaveResult, error) {
				return client.UpdateRecords(t.Context(), c, "Account", updates, client.CollectionOptions{})
			}, "result 0 is for record " + idB},
		{"update success without its id", "PATCH " + dataPath + "/composite/sobjects",
			[]any{ok(idA), map[string]any{"success": true, "errors": []any{}}},
			func(c *client.Client) ([]client.SaveResult, error) {
				return client.UpdateRecords(t.Context(), c, "Account", updates, client.CollectionOptions{})
			}, "result 1 reports a success without the record's id"},
		{"update with a failure as documented, no id", "PATCH " + dataPath + "/composite/sobjects",
			[]any{ok(idA), failedNoID("MALFORMED_ID")},
			func(c *client.Client) ([]client.SaveResult, error) {
				return client.UpdateRecords(t.Context(), c, "Account", updates, client.CollectionOptions{})
			}, ""},
		{"update answered with the 15-character ids", "PATCH " + dataPath + "/composite/sobjects",
			[]any{ok(idA[:15]), ok(idB[:15])},
			func(c *client.Client) ([]client.SaveResult, error) {
				return client.UpdateRecords(t.Context(), c, "Account", updates, client.CollectionOptions{})
			}, ""},
		{"update answered with fewer results", "PATCH " + dataPath + "/composite/sobjects",
			[]any{ok(idA)},
			func(c *client.Client) ([]client.SaveResult, error) {
				return client.UpdateRecords(t.Context(), c, "Account", updates, client.CollectionOptions{})
			}, "1 results answered for 2 records"},
		{"delete answered in another order", "DELETE " + dataPath + "/composite/sobjects",
			[]any{ok(idB), ok(idA)},
			func(c *client.Client) ([]client.SaveResult, error) {
				return client.DeleteRecords(t.Context(), c, []string{idA, idB}, client.CollectionOptions{})
			}, "result 0 is for record " + idB},
		{"delete with a failure as documented, no id", "DELETE " + dataPath + "/composite/sobjects",
			[]any{ok(idA), failedNoID("MALFORMED_ID")},
			func(c *client.Client) ([]client.SaveResult, error) {
				return client.DeleteRecords(t.Context(), c, []string{idA, "001000000000002"}, client.CollectionOptions{})
			}, ""},
		{"create reporting the same new record twice", "POST " + dataPath + "/composite/sobjects",
			[]any{ok(idA), ok(idB), ok(idA)},
			func(c *client.Client) ([]client.SaveResult, error) {
				return client.CreateRecords(t.Context(), c, "Account", accounts(3, "Acme"), client.CollectionOptions{})
			}, "results 0 and 2 report the same record " + idA},
		{"create success without an id", "POST " + dataPath + "/composite/sobjects",
			[]any{ok(idA), map[string]any{"success": true, "errors": []any{}}},
			func(c *client.Client) ([]client.SaveResult, error) {
				return client.CreateRecords(t.Context(), c, "Account", accounts(2, "Acme"), client.CollectionOptions{})
			}, "result 1 reports a success without a record id"},
		{"create with a failure as documented, no id", "POST " + dataPath + "/composite/sobjects",
			[]any{ok(idA), failedNoID("REQUIRED_FIELD_MISSING")},
			func(c *client.Client) ([]client.SaveResult, error) {
				return client.CreateRecords(t.Context(), c, "Account", accounts(2, "Acme"), client.CollectionOptions{})
			}, ""},
		{"upsert reporting the same record twice", "PATCH " + dataPath + "/composite/sobjects/Account/External_Id__c",
			[]any{map[string]any{"id": idA, "success": true, "errors": []any{}, "created": false},
				map[string]any{"id": idA[:15] + "aaa", "success": true, "errors": []any{}, "created": true}},
			func(c *client.Client) ([]client.SaveResult, error) {
				return client.UpsertRecords(t.Context(), c, "Account", "External_Id__c", accounts(2, "Acme"), client.CollectionOptions{})
			}, "results 0 and 1 report the same record"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			org, c := setup(t, extOrgConfig(), salesforcetest.APIVersion)
			var requests atomic.Int64
			org.Setup().Handle(tc.route, true, answerWith(&requests, func(int64) any { return tc.answer }))
			results, err := tc.call(c)
			if tc.reason == "" {
				require.NoError(t, err, "an answer as Salesforce documents it")
				for i, r := range tc.answer.([]any) {
					assert.Equal(t, r.(map[string]any)["success"], results[i].Success, "result %d", i)
				}
				return
			}
			mismatch(t, results, err, &requests, tc.reason)
		})
	}
}

// Two chunks of a create that report the same new record: both chunks'
// outcome is unknown, whatever the order they were answered in; the chunk
// that matches keeps its results.
func TestCreateRecordsSameNewIDInTwoChunks(t *testing.T) {
	org, c := setup(t, extOrgConfig(), salesforcetest.APIVersion)
	var requests atomic.Int64
	newID := func(n int) string { return fmt.Sprintf("001%012dAAA", n) }
	org.Setup().Handle("POST "+dataPath+"/composite/sobjects", true, answerWith(&requests, func(n int64) any {
		var out []any
		switch n {
		case 0: // records 0–199
			for i := range 200 {
				out = append(out, ok(newID(i)))
			}
		case 1: // records 200–399: the last one reported as record 7
			for i := 200; i < 399; i++ {
				out = append(out, ok(newID(i)))
			}
			out = append(out, ok(newID(7)))
		default: // records 400–449
			for i := 400; i < 450; i++ {
				out = append(out, ok(newID(i)))
			}
		}
		return out
	}))
	results, err := client.CreateRecords(t.Context(), c, "Account", accounts(450, "Acme"), client.CollectionOptions{Parallelism: 1})
	var ce *client.CollectionError
	require.ErrorAs(t, err, &ce)
	var me *client.AnswerMismatchError
	require.ErrorAs(t, err, &me)
	assert.Contains(t, me.Reason, "results 7 and 399 report the same record "+newID(7))
	require.Len(t, ce.Chunks, 3)
	for i, want := range []client.ChunkState{client.ChunkFailed, client.ChunkFailed, client.ChunkAnswered} {
		assert.Equal(t, want, ce.Chunks[i].State, "chunk %d", i)
	}
	assert.True(t, ce.Chunks[0].OutcomeUnknown())
	assert.True(t, ce.Chunks[1].OutcomeUnknown())
	for i := range 400 {
		require.Equal(t, client.SaveResult{}, results[i], "result %d", i)
	}
	for i := 400; i < 450; i++ {
		require.Equal(t, newID(i), results[i].ID)
	}
	assert.Equal(t, int64(3), requests.Load())
}

// "Retrieve Multiple Records with Fewer Round-Trips": the records come back
// in the order of the ids, each with its Id (or its attributes' url). A
// record answered at another id's place is an error, never another record's
// data under the id asked for.
func TestRetrieveRecordsAnswerMustMatchTheIDs(t *testing.T) {
	org, c := setup(t, extOrgConfig(), salesforcetest.APIVersion)
	var requests atomic.Int64
	rec := func(id, name string) map[string]any {
		return map[string]any{"attributes": map[string]any{"type": "Account", "url": dataPath + "/sobjects/Account/" + id}, "Id": id, "Name": name}
	}
	byURL := func(id, name string) map[string]any {
		return map[string]any{"attributes": map[string]any{"type": "Account", "url": dataPath + "/sobjects/Account/" + id}, "Name": name}
	}
	answers := [][]any{
		{rec(idB, "Globex"), rec(idA, "Acme")},
		{byURL(idA, "Acme"), byURL(idC, "Initech")},
		{rec(idA, "Acme"), nil},
	}
	org.Setup().Handle("POST "+dataPath+"/composite/sobjects/Account", true, answerWith(&requests, func(n int64) any { return answers[n] }))
	for i, reason := range []string{"record 0 is " + idB, "record 1 is " + idC} {
		got, err := client.RetrieveRecords[extAccount](t.Context(), c, "Account", []string{idA, idB}, []string{"Name"}, client.CollectionOptions{})
		var me *client.AnswerMismatchError
		require.ErrorAs(t, err, &me, "answer %d", i)
		assert.Contains(t, me.Reason, reason)
		assert.Equal(t, []*extAccount{nil, nil}, got)
	}
	got, err := client.RetrieveRecords[extAccount](t.Context(), c, "Account", []string{idA, idB}, []string{"Name"}, client.CollectionOptions{})
	require.NoError(t, err)
	assert.Equal(t, "Acme", got[0].Name)
	assert.Nil(t, got[1], "null: no such record")
}

// A Composite answer is checked against the subrequests sent. REST API
// Developer Guide, "Composite Request Body": the top-level request "includes
// responses for each subrequest"; "Composite Subrequest Result": referenceId
// associates subrequests with their results. A subrequest with no answer,
// answered twice, or an answer for a subrequest never sent is an
// *AnswerMismatchError naming the subrequests whose outcome is unknown,
// returned by Composite and by the response's Err, never a success; the
// request is sent once.
func TestCompositeAnswerMustMatchTheSubrequests(t *testing.T) {
	sub := func(ref string, status int) map[string]any {
		return map[string]any{"referenceId": ref, "httpStatusCode": status, "httpHeaders": map[string]any{},
			"body": map[string]any{"id": idA, "success": true, "errors": []any{}}}
	}
	cases := []struct {
		name      string
		allOrNone bool
		answer    []any
		unknown   []string // nil: the answer matches
		kept      []string // the referenceIds of the subresponses kept, in request order
		reason    string
	}{
		{"answered in another order", false, []any{sub("B", 201), sub("A", 201), sub("C", 201)}, nil, []string{"A", "B", "C"}, ""},
		{"a subrequest with no answer", false, []any{sub("A", 201), sub("C", 201)}, []string{"B"}, []string{"A", "C"}, "no answer for B"},
		{"one answered twice, another missing", false, []any{sub("A", 201), sub("A", 201), sub("C", 201)}, []string{"A", "B"}, []string{"C"}, "more than one answer for A"},
		{"an answer for a subrequest never sent", false, []any{sub("A", 201), sub("B", 201), sub("C", 201), sub("X", 201)}, []string{"A", "B", "C"}, nil, `answers for "X", never sent`},
		{"no answer at all", false, []any{}, []string{"A", "B", "C"}, nil, "no answer for A, B, C"},
		{"allOrNone with a subrequest missing", true, []any{sub("A", 201), sub("C", 201)}, []string{"A", "B", "C"}, nil, "no answer for B"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			org, c := setup(t, extOrgConfig(), salesforcetest.APIVersion)
			var requests atomic.Int64
			org.Setup().Handle("POST "+dataPath+"/composite", true, answerWith(&requests, func(int64) any {
				return map[string]any{"compositeResponse": tc.answer}
			}))
			req := client.CompositeRequest{AllOrNone: tc.allOrNone}
			for _, ref := range []string{"A", "B", "C"} {
				req.Subrequests = append(req.Subrequests, client.Subrequest{Method: http.MethodPost,
					URL: subURL(t, c, "sobjects", "Account"), ReferenceID: ref, Body: extAccount{Name: ref}})
			}
			resp, err := c.Composite(t.Context(), req)
			assert.Equal(t, int64(1), requests.Load(), "sent once")
			require.NotNil(t, resp)
			var kept []string
			for _, s := range resp.Subresponses {
				kept = append(kept, s.ReferenceID)
			}
			assert.Equal(t, tc.kept, kept)
			if tc.unknown == nil {
				require.NoError(t, err)
				require.NoError(t, resp.Err())
				return
			}
			var me *client.AnswerMismatchError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tc.unknown, me.Unknown)
			assert.Contains(t, me.Reason, tc.reason)
			assert.Contains(t, err.Error(), "outcome unknown for subrequests")
			assert.ErrorIs(t, resp.Err(), err, "Err reports the mismatch too")
			for _, ref := range tc.unknown {
				_, found := resp.ByReference(ref)
				assert.False(t, found, "no answer taken for %s", ref)
			}
		})
	}
}

// An answer over Config.MaxResponseBytes fails with
// *client.ResponseTooLargeError and is not fetched again: a retrieve is
// retried only when it got no answer, and this one was answered (observed on
// 124029d: the request was sent twice).
func TestRetrieveRecordsOversizedAnswerIsFetchedOnce(t *testing.T) {
	org := salesforcetest.NewOrg(t, extOrgConfig())
	cfg := org.ClientConfig()
	cfg.APIVersion, cfg.MaxResponseBytes = salesforcetest.APIVersion, 4096
	c, err := client.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	var requests atomic.Int64
	org.Setup().Handle("POST "+dataPath+"/composite/sobjects/Account", true, answerWith(&requests, func(int64) any {
		return []any{map[string]any{"Id": idA, "Description": strings.Repeat("x", 64<<10)}}
	}))
	got, err := client.RetrieveRecords[extAccount](t.Context(), c, "Account", []string{idA}, []string{"Description"}, client.CollectionOptions{})
	var tooLarge *client.ResponseTooLargeError
	require.ErrorAs(t, err, &tooLarge)
	assert.Equal(t, int64(4096), tooLarge.Limit)
	assert.Nil(t, got[0])
	assert.Equal(t, int64(1), requests.Load(), "the oversized answer is not fetched again")
	assert.Zero(t, c.Stats().Retries)
}

// An upsert's chunks are requests apart: two of them may name the same
// external id, and so the same record, which is no mismatch (within one
// request the key given twice is an error: Apex Developer Guide, "Upserting
// Records": "If the key is matched multiple times, then an error is
// generated").
func TestUpsertRecordsSameRecordInTwoChunks(t *testing.T) {
	org, c := setup(t, extOrgConfig(), salesforcetest.APIVersion)
	recs := accounts(201, "Acme")
	recs[200].ExternalID = recs[0].ExternalID
	recs[200].Description = "second"
	results, err := client.UpsertRecords(t.Context(), c, "Account", "External_Id__c", recs, client.CollectionOptions{Parallelism: 1})
	require.NoError(t, err)
	assert.True(t, results[0].Created)
	assert.False(t, results[200].Created)
	assert.Equal(t, results[0].ID, results[200].ID)
	rec, _ := org.Data().Record("Account", results[0].ID)
	assert.Equal(t, "second", rec["Description"])
}
