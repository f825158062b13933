package salesforcetest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Issues 20.5 and 21.3: an insert job over Config.BulkStoreMaxRecords used
// to report every valid row as a success while the fake kept none, so a
// query found nothing. Now an insert or upsert job over the cap ends Failed
// before any row is applied, its errorMessage naming the cap and how to
// raise it; the rows stay unprocessed ("Get Job Unprocessed Record
// Results"). A job at the cap, whose quoted values hold line breaks, is
// counted by its rows, not its lines, and is stored and queryable.
func TestBulkInsertOverTheCapFails(t *testing.T) {
	_, b := newWire(t, salesforcetest.Config{BulkStoreMaxRecords: 3, Objects: []salesforcetest.SObject{{Name: "Account",
		Fields: []salesforcetest.Field{{Name: "Ext__c", Type: salesforcetest.TypeString, ExternalID: true}}}}})
	ingest := func(body string, upsert ...bool) wireJob {
		t.Helper()
		var job wireJob
		spec := map[string]string{"object": "Account", "operation": "insert"}
		if len(upsert) > 0 {
			spec = map[string]string{"object": "Account", "operation": "upsert", "externalIdFieldName": "Ext__c"}
		}
		require.NoError(t, b.json(http.MethodPost, "jobs/ingest", spec, &job))
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
	assert.Equal(t, "FakeOrgRowCap : the fake org stores at most 3 rows of a Bulk API insert or upsert job "+
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

	// An upsert may create every row it has: the same cap holds.
	job = ingest("Name,Ext__c\nUp A,1\nUp B,2\nUp C,3\nUp D,4\n", true)
	assert.Equal(t, "Failed", job.State)
	assert.Contains(t, job.ErrorMessage, "FakeOrgRowCap : the fake org stores at most 3 rows")
	assert.Zero(t, count("Up"))
}

// rowsReader streams a CSV of n generated Account rows without holding it.
type rowsReader struct {
	n, next int
	buf     []byte
}

func (r *rowsReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) && r.next <= r.n {
		if r.next == 0 {
			r.buf = append(r.buf, "Name,Description\n"...)
		} else {
			r.buf = fmt.Appendf(r.buf, "Row %07d,generated\n", r.next)
		}
		r.next++
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Issue 21.3: a Bulk API 2.0 job of 1,000,000 rows under the default
// configuration is refused, whole and with the reason, not counted and
// dropped: the job ends Failed naming the 50,000-row cap, and no row is
// stored or reported processed (TestBulkInsertOverTheCapFails shows the
// rows stay in the job's unprocessed records).
func TestBulkMillionRowJobIsRefusedWithTheReason(t *testing.T) {
	const rows = 1_000_000
	_, b := newWire(t, salesforcetest.Config{})
	var job wireJob
	require.NoError(t, b.json(http.MethodPost, "jobs/ingest", map[string]string{"object": "Account", "operation": "insert"}, &job))
	_, _, err := b.call(http.MethodPut, "jobs/ingest/"+job.ID+"/batches", &rowsReader{n: rows}, http.Header{"Content-Type": {"text/csv"}})
	require.NoError(t, err)
	require.NoError(t, b.json(http.MethodPatch, "jobs/ingest/"+job.ID, map[string]string{"state": "UploadComplete"}, nil))
	job = b.waitJob("ingest", job.ID)
	assert.Equal(t, "Failed", job.State)
	assert.Equal(t, "FakeOrgRowCap : the fake org stores at most 50000 rows of a Bulk API insert or upsert job "+
		"(salesforcetest Config.BulkStoreMaxRecords, sfmtls fake-org --bulk-store-max) and this job has 1000000: "+
		"no row was applied; split the CSV or raise the cap", job.ErrorMessage)
	assert.Zero(t, job.NumberRecordsProcessed)
	var res struct{ TotalSize int }
	require.NoError(t, b.c.Do(b.ctx, http.MethodGet, "/services/data/v"+salesforcetest.APIVersion+"/query?q=SELECT+COUNT()+FROM+Account", nil, &res))
	assert.Zero(t, res.TotalSize)
}
