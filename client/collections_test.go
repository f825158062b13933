package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// extAccount is a struct a user would query and write with.
type extAccount struct {
	ID          string `json:"Id,omitempty"`
	Name        string `json:"Name,omitempty"`
	ExternalID  string `json:"External_Id__c,omitempty"`
	Industry    string `json:"Industry,omitempty"`
	Description string `json:"Description,omitempty"`
}

func extOrgConfig() salesforcetest.Config {
	return salesforcetest.Config{Objects: []salesforcetest.SObject{{Name: "Account", Fields: []salesforcetest.Field{
		{Name: "External_Id__c", Type: salesforcetest.TypeString, ExternalID: true, Unique: true},
	}}}}
}

func accounts(n int, name string) []extAccount {
	out := make([]extAccount, n)
	for i := range out {
		out[i] = extAccount{Name: fmt.Sprintf("%s %04d", name, i), ExternalID: fmt.Sprintf("EXT-%04d", i)}
	}
	return out
}

// REST API Developer Guide, "Create Records Using sObject Collections": up to
// 200 records a request, SaveResults in request order. 450 records are three
// requests (200, 200, 50), each counted against the allocation.
func TestCreateRecordsChunksBy200InInputOrder(t *testing.T) {
	org, c := setup(t, extOrgConfig(), "65.0")
	ctx := t.Context()
	recs := accounts(450, "Acme")
	before := org.Stats().APIUsage
	results, err := client.CreateRecords(ctx, c, "Account", recs, client.CollectionOptions{Parallelism: 3})
	require.NoError(t, err)
	after := org.Stats().APIUsage
	assert.Equal(t, int64(3), after-before, "450 records are 3 Collections calls")
	require.Len(t, results, 450)
	for i, r := range results {
		require.True(t, r.Success, "record %d: %+v", i, r)
		rec, ok := org.Data().Record("Account", r.ID)
		require.True(t, ok)
		assert.Equal(t, recs[i].Name, rec["Name"], "result %d belongs to input record %d", i, i)
	}
}

// "Create Records Using sObject Collections": with allOrNone false a failing
// record leaves the others created, and its SaveResult carries Salesforce's
// error (here REQUIRED_FIELD_MISSING from the org's schema).
func TestCreateRecordsReportsPerRecordErrors(t *testing.T) {
	org, c := setup(t, extOrgConfig(), "65.0")
	recs := accounts(5, "Acme")
	recs[2].Name = "" // Name is required on Account
	results, err := client.CreateRecords(t.Context(), c, "Account", recs, client.CollectionOptions{})
	require.NoError(t, err, "record errors are results, not a call error")
	for i, r := range results {
		if i == 2 {
			assert.False(t, r.Success)
			require.Len(t, r.Errors, 1)
			assert.Equal(t, "REQUIRED_FIELD_MISSING", r.Errors[0].ErrorCode)
			assert.Equal(t, []string{"Name"}, r.Errors[0].Fields)
			continue
		}
		assert.True(t, r.Success, "record %d", i)
		_, ok := org.Data().Record("Account", r.ID)
		assert.True(t, ok)
	}
}

// allOrNone per chunk ("Create Records Using sObject Collections": "roll back
// the entire request when an error occurs"): the chunk holding the bad record
// is rolled back, its other records answer ALL_OR_NONE_OPERATION_ROLLED_BACK,
// the chunk already committed stays, and no further chunk is sent.
func TestCreateRecordsAllOrNoneIsPerChunkAndStops(t *testing.T) {
	org, c := setup(t, extOrgConfig(), "65.0")
	recs := accounts(650, "Acme")
	recs[250].Name = "" // in the second chunk
	results, err := client.CreateRecords(t.Context(), c, "Account", recs,
		client.CollectionOptions{AllOrNone: true, Parallelism: 1})
	var ce *client.CollectionError
	require.ErrorAs(t, err, &ce)
	require.Len(t, ce.Chunks, 4)
	assert.Equal(t, client.ChunkAnswered, ce.Chunks[0].State)
	assert.Equal(t, client.ChunkAnswered, ce.Chunks[1].State)
	assert.Equal(t, client.ChunkNotSent, ce.Chunks[2].State, "AllOrNone stops after the failed chunk")
	assert.Equal(t, client.ChunkNotSent, ce.Chunks[3].State)
	assert.Equal(t, 400, ce.Chunks[2].Start)
	assert.False(t, ce.Chunks[2].OutcomeUnknown(), "never sent: nothing unknown")
	for i := range 200 {
		assert.True(t, results[i].Success, "chunk 0 committed")
	}
	for i := 200; i < 400; i++ {
		require.False(t, results[i].Success)
		want := "ALL_OR_NONE_OPERATION_ROLLED_BACK"
		if i == 250 {
			want = "REQUIRED_FIELD_MISSING"
		}
		assert.Equal(t, want, results[i].Errors[0].ErrorCode, "record %d", i)
	}
	n := 0
	for _, err := range client.Query[extAccount](t.Context(), c, "SELECT Id FROM Account") {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 200, n, "only the first chunk's records exist")
	_ = org
}

// "Update Records Using sObject Collections": each record needs its id;
// "Upsert Records Using sObject Collections": matched on the external id,
// Created says which were inserted.
func TestUpdateAndUpsertRecords(t *testing.T) {
	org, c := setup(t, extOrgConfig(), "65.0")
	ctx := t.Context()
	recs := accounts(250, "Acme")
	created, err := client.CreateRecords(ctx, c, "Account", recs[:210], client.CollectionOptions{})
	require.NoError(t, err)

	updates := make([]extAccount, 210)
	for i, r := range created {
		updates[i] = extAccount{ID: r.ID, Industry: "Energy"}
	}
	results, err := client.UpdateRecords(ctx, c, "Account", updates, client.CollectionOptions{})
	require.NoError(t, err)
	for i, r := range results {
		require.True(t, r.Success, "update %d: %+v", i, r)
		rec, _ := org.Data().Record("Account", created[i].ID)
		assert.Equal(t, "Energy", rec["Industry"])
		assert.Equal(t, recs[i].Name, rec["Name"], "fields not sent are unchanged")
	}

	_, err = client.UpdateRecords(ctx, c, "Account", []extAccount{{Name: "no id"}}, client.CollectionOptions{})
	require.ErrorIs(t, err, client.ErrInvalidRequest, "an update without Id is refused before sending")

	// Upsert 250: the first 210 exist (updated), the last 40 are new.
	for i := range recs {
		recs[i].Description = "upserted"
	}
	results, err = client.UpsertRecords(ctx, c, "Account", "External_Id__c", recs, client.CollectionOptions{Parallelism: 2})
	require.NoError(t, err)
	require.Len(t, results, 250)
	for i, r := range results {
		require.True(t, r.Success, "upsert %d: %+v", i, r)
		assert.Equal(t, i >= 210, r.Created, "record %d created", i)
		if i < 210 {
			assert.Equal(t, created[i].ID, r.ID, "matched on External_Id__c")
		}
		rec, _ := org.Data().Record("Account", r.ID)
		assert.Equal(t, "upserted", rec["Description"])
	}

	// An upsert on a field that is not an external id: the whole chunk is refused.
	_, err = client.UpsertRecords(ctx, c, "Account", "Name", recs[:3], client.CollectionOptions{})
	var ce *client.CollectionError
	require.ErrorAs(t, err, &ce)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	assert.True(t, apiErr.HasCode("NOT_FOUND"))
}

// "Delete Records Using sObject Collections": up to 200 ids a request,
// results in id order; a malformed id is that record's MALFORMED_ID.
// "Retrieve Multiple Records with Fewer Round-Trips": null for an id with no
// record.
func TestDeleteAndRetrieveRecords(t *testing.T) {
	org, c := setup(t, extOrgConfig(), "65.0")
	ctx := t.Context()
	created, err := client.CreateRecords(ctx, c, "Account", accounts(230, "Acme"), client.CollectionOptions{})
	require.NoError(t, err)
	ids := make([]string, len(created))
	for i, r := range created {
		ids[i] = r.ID
	}

	got, err := client.RetrieveRecords[extAccount](ctx, c, "Account", append([]string{"001000000000000AAA"}, ids...), []string{"Id", "Name"}, client.CollectionOptions{})
	require.NoError(t, err)
	require.Len(t, got, 231)
	assert.Nil(t, got[0], "no such record: null")
	for i, id := range ids {
		require.NotNil(t, got[i+1])
		assert.Equal(t, id, got[i+1].ID)
		assert.Equal(t, fmt.Sprintf("Acme %04d", i), got[i+1].Name)
	}
	_, err = client.RetrieveRecords[extAccount](ctx, c, "Account", ids, []string{"Nmae"}, client.CollectionOptions{})
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr, "an unknown field is a 400 for the whole request")
	assert.True(t, apiErr.HasCode("INVALID_FIELD"))

	results, err := client.DeleteRecords(ctx, c, append(ids, "not-an-id"), client.CollectionOptions{})
	require.NoError(t, err)
	require.Len(t, results, 231)
	for i := range ids {
		assert.True(t, results[i].Success, "delete %d", i)
		rec, _ := org.Data().Record("Account", ids[i])
		assert.Equal(t, true, rec["IsDeleted"])
	}
	assert.False(t, results[230].Success)
	assert.Equal(t, "MALFORMED_ID", results[230].Errors[0].ErrorCode)
}

// A chunk that fails as a whole — here its answer is lost after the org
// committed it — is reported with its records; the results of the chunks
// that were answered are kept; the write is not sent again (its outcome is
// unknown), and no chunk is sent after it.
func TestCollectionChunkFailureKeepsOtherResultsAndNeverResends(t *testing.T) {
	org := salesforcetest.NewOrg(t, extOrgConfig())
	var posts atomic.Int32
	cfg := org.ClientConfig()
	cfg.APIVersion = "65.0"
	cfg.WrapBase = func(base http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := base.RoundTrip(r)
			if err == nil && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/composite/sobjects") && posts.Add(1) == 3 {
				resp.Body.Close()
				return nil, errors.New("connection reset by peer (test)")
			}
			return resp, err
		})
	}
	c, err := client.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	results, err := client.CreateRecords(t.Context(), c, "Account", accounts(1000, "Acme"), client.CollectionOptions{Parallelism: 1})
	var ce *client.CollectionError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(3), posts.Load(), "the failed chunk is not resent, and no chunk is sent after it")
	assert.Equal(t, client.ChunkFailed, ce.Chunks[2].State)
	assert.True(t, ce.Chunks[2].OutcomeUnknown())
	assert.Equal(t, []int{400, 600}, []int{ce.Chunks[2].Start, ce.Chunks[2].End})
	assert.Equal(t, client.ChunkNotSent, ce.Chunks[3].State)
	assert.Len(t, ce.Failed(), 3)
	for i := range 400 {
		require.True(t, results[i].Success, "answered chunks keep their results")
	}
	assert.Contains(t, err.Error(), "records 400–599")
	assert.Contains(t, err.Error(), "outcome unknown")
	n := 0
	for _, err := range client.Query[extAccount](t.Context(), c, "SELECT Id FROM Account") {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 600, n, "the lost answer's chunk was committed once, never twice")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Bad input is refused before anything is sent.
func TestCollectionInputErrors(t *testing.T) {
	_, c := setup(t, extOrgConfig(), "65.0")
	ctx := t.Context()
	_, err := client.CreateRecords(ctx, c, "Account", []string{"not an object"}, client.CollectionOptions{})
	require.ErrorIs(t, err, client.ErrInvalidRequest)
	_, err = client.CreateRecords(ctx, c, "", accounts(1, "x"), client.CollectionOptions{})
	require.ErrorIs(t, err, client.ErrInvalidRequest)
	_, err = client.UpsertRecords(ctx, c, "Account", "", accounts(1, "x"), client.CollectionOptions{})
	require.ErrorIs(t, err, client.ErrInvalidRequest)
	_, err = client.DeleteRecords(ctx, c, []string{"a,b"}, client.CollectionOptions{})
	require.ErrorIs(t, err, client.ErrInvalidRequest)
	_, err = client.RetrieveRecords[extAccount](ctx, c, "Account", []string{"001"}, nil, client.CollectionOptions{})
	require.ErrorIs(t, err, client.ErrInvalidRequest)

	res, err := client.CreateRecords(ctx, c, "Account", []extAccount{}, client.CollectionOptions{})
	require.NoError(t, err)
	assert.Empty(t, res)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = client.CreateRecords(cancelled, c, "Account", accounts(3, "x"), client.CollectionOptions{})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled))
}

// Issue 12, point 8: inserting 10,000 records through sObject Collections
// takes 10,000 / 200 = 50 API calls, counted by the org against the
// allocation (and seen as 50 requests on the wire).
func TestInsert10000RecordsTakes50APICalls(t *testing.T) {
	org, c := setup(t, salesforcetest.Config{}, "65.0")
	recs := make([]account, 10000)
	for i := range recs {
		recs[i] = account{Name: fmt.Sprintf("Bulk %05d", i), Industry: "Energy"}
	}
	usedBefore := org.Stats().APIUsage
	requestsBefore := org.Stats().APIRequests
	results, err := client.CreateRecords(t.Context(), c, "Account", recs, client.CollectionOptions{})
	require.NoError(t, err)
	usedAfter := org.Stats().APIUsage
	assert.Equal(t, int64(50), usedAfter-usedBefore, "API calls counted against the allocation")
	assert.Equal(t, int64(50), org.Stats().APIRequests-requestsBefore, "requests the org saw")
	require.Len(t, results, 10000)
	for i, r := range results {
		require.True(t, r.Success, "record %d", i)
	}
	t.Logf("10,000 records: %d API calls", usedAfter-usedBefore)
}

// Every chunk is an API call the org counts: when the allocation runs out
// mid-way, the refused chunk is a 403 REQUEST_LIMIT_EXCEEDED ("Status Codes
// and Error Responses"), nothing after it is sent, and the records already
// answered keep their results. A refused chunk was provably not processed.
func TestCollectionsStopWhenTheAllocationRunsOut(t *testing.T) {
	org, c := setup(t, salesforcetest.Config{DailyAPIRequests: 100}, "65.0")
	org.Faults().SetAPIUsage(98) // two calls left
	recs := make([]account, 1000)
	for i := range recs {
		recs[i] = account{Name: fmt.Sprintf("A%d", i)}
	}
	results, err := client.CreateRecords(t.Context(), c, "Account", recs, client.CollectionOptions{Parallelism: 1})
	var ce *client.CollectionError
	require.ErrorAs(t, err, &ce)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusForbidden, apiErr.StatusCode)
	assert.True(t, apiErr.HasCode("REQUEST_LIMIT_EXCEEDED"))
	assert.Equal(t, []client.ChunkState{client.ChunkAnswered, client.ChunkAnswered, client.ChunkFailed, client.ChunkNotSent, client.ChunkNotSent},
		[]client.ChunkState{ce.Chunks[0].State, ce.Chunks[1].State, ce.Chunks[2].State, ce.Chunks[3].State, ce.Chunks[4].State})
	assert.False(t, ce.Chunks[2].OutcomeUnknown(), "a 403 answer: not processed")
	for i := range 400 {
		require.True(t, results[i].Success)
	}
	used := org.Stats().APIUsage
	assert.Equal(t, int64(100), used)
}

// A retrieve is a read: a chunk whose call fails without an answer is tried
// once more. A delete is not: its lost answer leaves the chunk
// OutcomeUnknown, sent once.
func TestRetrieveIsRetriedOnceDeleteNever(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	ids := org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"}, map[string]any{"Name": "Globex"})
	var retrieves, deletes atomic.Int32
	cfg := org.ClientConfig()
	cfg.APIVersion = "65.0"
	cfg.WrapBase = func(base http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			switch {
			case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/composite/sobjects/Account"):
				if retrieves.Add(1) == 1 {
					return nil, errors.New("connection reset by peer (test)")
				}
			case r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/composite/sobjects"):
				deletes.Add(1)
				resp, err := base.RoundTrip(r)
				if err == nil {
					resp.Body.Close()
					err = errors.New("connection reset by peer (test)")
				}
				return nil, err
			}
			return base.RoundTrip(r)
		})
	}
	c, err := client.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	ctx := t.Context()

	got, err := client.RetrieveRecords[account](ctx, c, "Account", ids, []string{"Name"}, client.CollectionOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(2), retrieves.Load())
	assert.Equal(t, "Acme", got[0].Name)
	assert.Equal(t, "Globex", got[1].Name)

	_, err = client.DeleteRecords(ctx, c, ids, client.CollectionOptions{})
	var ce *client.CollectionError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int32(1), deletes.Load(), "a delete is not resent")
	assert.True(t, ce.Chunks[0].OutcomeUnknown())
	rec, _ := org.Data().Record("Account", ids[0])
	assert.Equal(t, true, rec["IsDeleted"], "the org did delete: only the answer was lost")
}

// A delete's retries follow the caller's policy: with Config.CallRetry set
// to NoRetry, a chunk answered 503 SERVER_UNAVAILABLE ("Status Codes and Error
// Responses": the server is unavailable, the request was not processed) is
// sent once; with the default policy, it is sent again and succeeds.
func TestDeleteRetriesFollowTheCallersPolicy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		policy  transport.RetryPolicy
		deletes int32
	}{
		{"NoRetry", transport.NoRetry, 1},
		{"default", nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org := salesforcetest.NewOrg(t, salesforcetest.Config{})
			ids := org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"})
			var deletes atomic.Int32
			cfg := org.ClientConfig()
			cfg.APIVersion = "65.0"
			cfg.CallRetry = tc.policy
			cfg.WrapBase = func(base http.RoundTripper) http.RoundTripper {
				return roundTripFunc(func(r *http.Request) (*http.Response, error) {
					if r.Method == http.MethodDelete && deletes.Add(1) == 1 {
						return &http.Response{StatusCode: http.StatusServiceUnavailable, Request: r,
							Header: http.Header{"Content-Type": {"application/json"}},
							Body:   io.NopCloser(strings.NewReader(`[{"errorCode":"SERVER_UNAVAILABLE","message":"try later"}]`))}, nil
					}
					return base.RoundTrip(r)
				})
			}
			c, err := client.New(cfg)
			require.NoError(t, err)
			defer c.Close()
			_, err = client.DeleteRecords(t.Context(), c, ids, client.CollectionOptions{})
			assert.Equal(t, tc.deletes, deletes.Load())
			rec, _ := org.Data().Record("Account", ids[0])
			if tc.deletes == 1 {
				var ce *client.CollectionError
				require.ErrorAs(t, err, &ce)
				assert.False(t, ce.Chunks[0].OutcomeUnknown(), "a 503 answer: not processed")
				assert.Equal(t, false, rec["IsDeleted"])
			} else {
				require.NoError(t, err)
				assert.Equal(t, true, rec["IsDeleted"])
			}
		})
	}
}

// A failed write chunk's outcome is unknown unless the answer says the
// request was not processed (retry.NotProcessed): a 500 with
// SERVER_UNAVAILABLE was not; a 500 UNKNOWN_EXCEPTION may have been
// ("Status Codes and Error Responses").
func TestOutcomeUnknownFollowsTheTransportsVerdict(t *testing.T) {
	for _, tc := range []struct {
		code    string
		unknown bool
	}{
		{"SERVER_UNAVAILABLE", false},
		{"UNKNOWN_EXCEPTION", true},
	} {
		t.Run(tc.code, func(t *testing.T) {
			org := salesforcetest.NewOrg(t, salesforcetest.Config{})
			ids := org.Data().Insert(t, "Account", map[string]any{"Name": "Acme"})
			cfg := org.ClientConfig()
			cfg.APIVersion = "65.0"
			cfg.CallRetry = transport.NoRetry
			cfg.WrapBase = func(base http.RoundTripper) http.RoundTripper {
				return roundTripFunc(func(r *http.Request) (*http.Response, error) {
					if r.Method == http.MethodDelete {
						return &http.Response{StatusCode: http.StatusInternalServerError, Request: r,
							Header: http.Header{"Content-Type": {"application/json"}},
							Body:   io.NopCloser(strings.NewReader(`[{"errorCode":"` + tc.code + `","message":"x"}]`))}, nil
					}
					return base.RoundTrip(r)
				})
			}
			c, err := client.New(cfg)
			require.NoError(t, err)
			defer c.Close()
			_, err = client.DeleteRecords(t.Context(), c, ids, client.CollectionOptions{})
			var ce *client.CollectionError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.unknown, ce.Chunks[0].OutcomeUnknown())
		})
	}
}

// probedAccount is an Account whose encoding notes how many API requests the
// org had seen when the record was encoded.
type probedAccount struct {
	Name  string
	seen  *atomic.Int64
	stats func() int64
}

func (p probedAccount) MarshalJSON() ([]byte, error) {
	if p.seen != nil {
		p.seen.Store(p.stats())
	}
	return json.Marshal(map[string]string{"Name": p.Name})
}

// Issue 23, point 2: chunks are encoded as they are sent, so the first chunk
// is on the wire (and answered) before the last record is encoded.
func TestCollectionsSendTheFirstChunkBeforeEncodingTheLast(t *testing.T) {
	org, c := setup(t, salesforcetest.Config{}, "65.0")
	_, err := c.APIVersion(t.Context())
	require.NoError(t, err)
	before := org.Stats().APIRequests
	var seen atomic.Int64
	seen.Store(-1)
	recs := make([]probedAccount, 450)
	for i := range recs {
		recs[i] = probedAccount{Name: fmt.Sprintf("Streamed %03d", i)}
	}
	recs[449].seen, recs[449].stats = &seen, func() int64 { return org.Stats().APIRequests }
	results, err := client.CreateRecords(t.Context(), c, "Account", recs, client.CollectionOptions{Parallelism: 1})
	require.NoError(t, err)
	require.Len(t, results, 450)
	assert.Equal(t, before+2, seen.Load(), "the last record was encoded after the first two chunks were answered")
}

// A record refused in the first chunk fails the call before anything is
// sent; one refused in a later chunk leaves that chunk and those after it
// unsent, the chunks before it answered, and says which record and why.
func TestCollectionsRefuseARecordInALaterChunk(t *testing.T) {
	org, c := setup(t, extOrgConfig(), "65.0")
	_, err := c.APIVersion(t.Context())
	require.NoError(t, err)
	created, err := client.CreateRecords(t.Context(), c, "Account", accounts(450, "x"), client.CollectionOptions{})
	require.NoError(t, err)
	updates := make([]extAccount, 450)
	for i, r := range created {
		require.True(t, r.Success, "record %d", i)
		updates[i] = extAccount{ID: r.ID, Name: fmt.Sprintf("renamed %d", i)}
	}

	noID := slices.Clone(updates)
	noID[10].ID = ""
	before := org.Stats().APIRequests
	_, err = client.UpdateRecords(t.Context(), c, "Account", noID, client.CollectionOptions{})
	require.ErrorIs(t, err, client.ErrInvalidRequest)
	assert.ErrorContains(t, err, "record 10 has no Id")
	var collErr *client.CollectionError
	assert.False(t, errors.As(err, &collErr), "nothing was sent: not a chunk's error")
	assert.Equal(t, before, org.Stats().APIRequests, "nothing was sent")

	noID = slices.Clone(updates)
	noID[250].ID = ""
	results, err := client.UpdateRecords(t.Context(), c, "Account", noID, client.CollectionOptions{Parallelism: 1})
	require.ErrorIs(t, err, client.ErrInvalidRequest)
	assert.ErrorContains(t, err, "record 250 has no Id")
	require.ErrorAs(t, err, &collErr)
	require.Len(t, collErr.Chunks, 3)
	assert.Equal(t, []client.ChunkState{client.ChunkAnswered, client.ChunkNotSent, client.ChunkNotSent},
		[]client.ChunkState{collErr.Chunks[0].State, collErr.Chunks[1].State, collErr.Chunks[2].State})
	assert.ErrorIs(t, collErr.Chunks[1].Err, client.ErrInvalidRequest)
	assert.False(t, collErr.Chunks[1].OutcomeUnknown(), "never sent, so known")
	assert.Equal(t, before+1, org.Stats().APIRequests, "the first chunk only")
	for i := range 200 {
		require.True(t, results[i].Success, "record %d", i)
	}
	assert.Equal(t, client.SaveResult{}, results[200])
}

// What each record becomes in the body: its fields once, the attributes map
// with the type, a create's empty Id left out wherever it stands, an
// update's Id kept, a record's own attributes kept.
func TestCollectionsRecordBodies(t *testing.T) {
	org, c := setup(t, salesforcetest.Config{}, "65.0")
	var bodies atomic.Value
	org.Setup().Handle("/services/data/v65.0/composite/sobjects", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		bodies.Store(string(raw))
		var req struct {
			Records []json.RawMessage `json:"records"`
		}
		require.NoError(t, json.Unmarshal(raw, &req))
		w.Header().Set("Content-Type", "application/json")
		out := make([]string, len(req.Records))
		for i := range out {
			out[i] = fmt.Sprintf(`{"id":"001%012d","success":true,"errors":[]}`, i)
		}
		_, _ = io.WriteString(w, "["+strings.Join(out, ",")+"]")
	}))
	type first struct {
		ID   string `json:"Id"`
		Name string `json:"Name"`
	}
	type last struct {
		Name string  `json:"Name"`
		ID   *string `json:"ID"`
	}
	send := func(records any, opts client.CollectionOptions) string {
		t.Helper()
		var err error
		switch r := records.(type) {
		case []first:
			_, err = client.CreateRecords(t.Context(), c, "Account", r, opts)
		case []last:
			_, err = client.CreateRecords(t.Context(), c, "Account", r, opts)
		case []map[string]any:
			_, err = client.CreateRecords(t.Context(), c, "My_Object__c", r, opts)
		}
		require.NoError(t, err)
		return bodies.Load().(string)
	}
	assert.Equal(t, `{"allOrNone":false,"records":[{"attributes":{"type":"Account"},"Name":"a\u003cb"},{"attributes":{"type":"Account"},"Id":"001000000000001AAA","Name":"b"}]}`,
		send([]first{{Name: "a<b"}, {ID: "001000000000001AAA", Name: "b"}}, client.CollectionOptions{}),
		"json.Marshal's escaping; a create's empty Id left out, a given one kept for Salesforce to refuse")
	assert.Equal(t, `{"allOrNone":true,"records":[{"attributes":{"type":"Account"},"Name":"c"}]}`,
		send([]last{{Name: "c"}}, client.CollectionOptions{AllOrNone: true}), "a null ID at the end")
	assert.Equal(t, `{"allOrNone":false,"records":[{"attributes":{"type":"Other"},"x":[1,{"Id":""}]},{"attributes":{"type":"My_Object__c"}}]}`,
		send([]map[string]any{{"attributes": map[string]string{"type": "Other"}, "Id": "", "x": []any{1, map[string]string{"Id": ""}}}, {"id": nil}},
			client.CollectionOptions{}), "a record's own attributes; nested Ids untouched")
}
