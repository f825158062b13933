package salesforcetest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Issue 20.5: an insert job over Config.BulkStoreMaxRecords used to report
// every valid row as a success while the fake kept none, so a query found
// nothing. Now it ends Failed before any row is applied, its errorMessage
// naming the cap and how to raise it; the rows stay unprocessed ("Get Job
// Unprocessed Record Results"). A job at the cap, whose quoted values hold
// line breaks, is counted by its rows, not its lines, and is stored.
func TestBulkInsertOverTheCapFails(t *testing.T) {
	_, b := newWire(t, salesforcetest.Config{BulkStoreMaxRecords: 3})
	ingest := func(body string) wireJob {
		t.Helper()
		var job wireJob
		require.NoError(t, b.json(http.MethodPost, "jobs/ingest", map[string]string{"object": "Account", "operation": "insert"}, &job))
		_, _, err := b.call(http.MethodPut, "jobs/ingest/"+job.ID+"/batches", strings.NewReader(body), http.Header{"Content-Type": {"text/csv"}})
		require.NoError(t, err)
		require.NoError(t, b.json(http.MethodPatch, "jobs/ingest/"+job.ID, map[string]string{"state": "UploadComplete"}, nil))
		return b.waitJob("ingest", job.ID)
	}
	count := func(name string) int {
		t.Helper()
		var res struct{ TotalSize int }
		require.NoError(t, b.c.Do(b.ctx, http.MethodGet, "/services/data/v"+salesforcetest.APIVersion+
			"/query?q=SELECT+COUNT()+FROM+Account+WHERE+Name+LIKE+'"+name+"%25'", nil, &res))
		return res.TotalSize
	}

	job := ingest("Name\nOver A\nOver B\nOver C\nOver D\n")
	assert.Equal(t, "Failed", job.State)
	assert.Equal(t, "FakeOrgRowCap : the fake org stores at most 3 rows of a Bulk API insert job "+
		"(salesforcetest Config.BulkStoreMaxRecords, sfmtls fake-org --bulk-store-max) and this job has 4: "+
		"no row was applied; split the CSV or raise the cap", job.ErrorMessage)
	assert.Zero(t, job.NumberRecordsProcessed)
	_, raw, err := b.call(http.MethodGet, "jobs/ingest/"+job.ID+"/unprocessedrecords/", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 4, strings.Count(string(raw), "Over "), string(raw))
	assert.Zero(t, count("Over"), "nothing kept, nothing reported kept")

	// Three rows in five lines: at the cap, stored.
	job = ingest("Name,Description\nAt A,\"one\nline more\"\nAt B,\"two\nlines\"\nAt C,x\n")
	require.Equal(t, "JobComplete", job.State, job.ErrorMessage)
	assert.EqualValues(t, 3, job.NumberRecordsProcessed)
	assert.Zero(t, job.NumberRecordsFailed)
	assert.Equal(t, 3, count("At"))
}
