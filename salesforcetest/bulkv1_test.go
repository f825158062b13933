package salesforcetest_test

import (
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Bulk API 1.0 on the wire ("Bulk API 2.0 and Bulk API Developer Guide",
// https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/),
// driven with the requests simple-salesforce (JSON jobs, bulk.py) and
// jsforce (XML jobs with CSV batches, src/api/bulk.ts) send.

type asyncClient struct {
	t     *testing.T
	c     *http.Client
	token string
	base  string
}

func newAsync(t *testing.T, org *salesforcetest.Org) asyncClient {
	c, token := login(t, org)
	return asyncClient{t: t, c: c, token: token, base: org.URL + "/services/async/65.0/"}
}

func (a asyncClient) do(method, path, contentType, body string) answer {
	a.t.Helper()
	h := []string{"X-SFDC-Session", a.token}
	if contentType != "" {
		h = append(h, "Content-Type", contentType)
	}
	return do(a.t, a.c, "", method, a.base+path, body, h...)
}

// v1Info holds the fields of jobInfo, batchInfo and error the tests read.
type v1Info struct {
	ID                     string `xml:"id" json:"id"`
	JobID                  string `xml:"jobId" json:"jobId"`
	State                  string `xml:"state" json:"state"`
	StateMessage           string `xml:"stateMessage" json:"stateMessage"`
	Operation              string `xml:"operation" json:"operation"`
	Object                 string `xml:"object" json:"object"`
	ContentType            string `xml:"contentType" json:"contentType"`
	ConcurrencyMode        string `xml:"concurrencyMode" json:"concurrencyMode"`
	NumberBatchesTotal     int    `xml:"numberBatchesTotal" json:"numberBatchesTotal"`
	NumberBatchesCompleted int    `xml:"numberBatchesCompleted" json:"numberBatchesCompleted"`
	NumberRecordsProcessed int    `xml:"numberRecordsProcessed" json:"numberRecordsProcessed"`
	NumberRecordsFailed    int    `xml:"numberRecordsFailed" json:"numberRecordsFailed"`
	ExceptionCode          string `xml:"exceptionCode" json:"exceptionCode"`
	ExceptionMessage       string `xml:"exceptionMessage" json:"exceptionMessage"`
}

func xmlInfo(t *testing.T, a answer, root string) v1Info {
	t.Helper()
	assert.Equal(t, "application/xml", a.header.Get("Content-Type"))
	var out struct {
		XMLName xml.Name
		v1Info
	}
	require.NoError(t, xml.Unmarshal(a.body, &out), string(a.body))
	require.Equal(t, "http://www.force.com/2009/06/asyncapi/dataload", out.XMLName.Space, string(a.body))
	require.Equal(t, root, out.XMLName.Local, string(a.body))
	return out.v1Info
}

func jsonInfo(t *testing.T, a answer) v1Info {
	t.Helper()
	var out v1Info
	require.NoError(t, json.Unmarshal(a.body, &out), string(a.body))
	return out
}

// simple-salesforce's flow (SFBulkType._bulk_operation): a JSON job with
// concurrencyMode 0, JSON batches, batch status until Completed, JSON
// results, then close. "Create a Job", "Add a Batch to a Job", "Get
// Information for a Batch", "Get Batch Results", "Close a Job".
func TestBulkV1JSONInsertUpsertAndQuery(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	a := newAsync(t, org)

	created := a.do(http.MethodPost, "job", "application/json", `{"operation":"insert","object":"Account","concurrencyMode":0,"contentType":"JSON"}`)
	require.Equal(t, http.StatusCreated, created.status, string(created.body))
	job := jsonInfo(t, created)
	assert.Equal(t, "Open", job.State)
	assert.Equal(t, "Parallel", job.ConcurrencyMode)
	assert.Equal(t, "JSON", job.ContentType)
	assert.True(t, strings.HasPrefix(job.ID, "750"), job.ID)
	assert.Contains(t, string(created.body), `"apiVersion":65.0`)

	added := a.do(http.MethodPost, "job/"+job.ID+"/batch", "application/json",
		`[{"Name":"Acme","External_Id__c":"A-1"},{"Name":"Globex","External_Id__c":"A-2"},{"External_Id__c":"A-3"}]`)
	require.Equal(t, http.StatusCreated, added.status, string(added.body))
	batch := jsonInfo(t, added)
	assert.Equal(t, "Queued", batch.State)
	assert.Equal(t, job.ID, batch.JobID)

	// simple-salesforce sends Content-Type application/json on GETs too.
	status := jsonInfo(t, a.do(http.MethodGet, "job/"+job.ID+"/batch/"+batch.ID, "application/json", ""))
	assert.Equal(t, "Completed", status.State)
	assert.Equal(t, 3, status.NumberRecordsProcessed)
	assert.Equal(t, 1, status.NumberRecordsFailed)

	res := a.do(http.MethodGet, "job/"+job.ID+"/batch/"+batch.ID+"/result", "application/json", "")
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	var results []struct {
		Success, Created bool
		ID               *string
		Errors           []struct{ StatusCode, Message string }
	}
	require.NoError(t, json.Unmarshal(res.body, &results), string(res.body))
	require.Len(t, results, 3)
	assert.True(t, results[0].Success && results[0].Created && results[0].ID != nil)
	assert.True(t, results[1].Success)
	assert.False(t, results[2].Success)
	assert.Nil(t, results[2].ID)
	require.Len(t, results[2].Errors, 1)
	assert.Equal(t, "REQUIRED_FIELD_MISSING", results[2].Errors[0].StatusCode)
	rec, ok := org.Data().Record("Account", *results[0].ID)
	require.True(t, ok)
	assert.Equal(t, "Acme", rec["Name"])

	closed := jsonInfo(t, a.do(http.MethodPost, "job/"+job.ID, "application/json", `{"state":"Closed"}`))
	assert.Equal(t, "Closed", closed.State)
	assert.Equal(t, 1, closed.NumberBatchesCompleted)
	assert.Equal(t, 3, closed.NumberRecordsProcessed)

	// Upsert by the external id: one update, one create.
	up := jsonInfo(t, a.do(http.MethodPost, "job", "application/json",
		`{"operation":"upsert","object":"Account","externalIdFieldName":"external_id__c","concurrencyMode":1,"contentType":"JSON"}`))
	assert.Equal(t, "Serial", up.ConcurrencyMode)
	ub := jsonInfo(t, a.do(http.MethodPost, "job/"+up.ID+"/batch", "application/json",
		`[{"Name":"Acme Renamed","External_Id__c":"A-1"},{"Name":"Initech","External_Id__c":"A-9"}]`))
	res = a.do(http.MethodGet, "job/"+up.ID+"/batch/"+ub.ID+"/result", "application/json", "")
	results = nil
	require.NoError(t, json.Unmarshal(res.body, &results), string(res.body))
	require.Len(t, results, 2)
	assert.True(t, results[0].Success)
	assert.False(t, results[0].Created)
	assert.Equal(t, *results[0].ID, rec["Id"])
	assert.True(t, results[1].Success && results[1].Created)

	// A query job: the batch body is the SOQL text, sent with the job's
	// content type ("Use Bulk Query"); the batch's result list names the
	// result ids, each a JSON array of records.
	qj := jsonInfo(t, a.do(http.MethodPost, "job", "application/json", `{"operation":"query","object":"Account","concurrencyMode":0,"contentType":"JSON"}`))
	qb := jsonInfo(t, a.do(http.MethodPost, "job/"+qj.ID+"/batch", "application/json", "SELECT Id, Name, CreatedDate FROM Account ORDER BY Name"))
	qs := jsonInfo(t, a.do(http.MethodGet, "job/"+qj.ID+"/batch/"+qb.ID, "application/json", ""))
	require.Equal(t, "Completed", qs.State, qs.StateMessage)
	assert.Equal(t, 3, qs.NumberRecordsProcessed)
	list := a.do(http.MethodGet, "job/"+qj.ID+"/batch/"+qb.ID+"/result", "application/json", "")
	var ids []string
	require.NoError(t, json.Unmarshal(list.body, &ids), string(list.body))
	require.Len(t, ids, 1)
	page := a.do(http.MethodGet, "job/"+qj.ID+"/batch/"+qb.ID+"/result/"+ids[0], "application/json", "")
	require.Equal(t, http.StatusOK, page.status, string(page.body))
	var records []map[string]any
	require.NoError(t, json.Unmarshal(page.body, &records), string(page.body))
	require.Len(t, records, 3)
	assert.Equal(t, "Acme Renamed", records[0]["Name"])
	assert.Equal(t, "Account", records[0]["attributes"].(map[string]any)["type"])
	// Bulk API 1.0 JSON results carry dateTimes as milliseconds since 1970
	// (simple-salesforce/simple-salesforce#290), not the REST API's text.
	createdMs, ok := records[0]["CreatedDate"].(float64)
	require.True(t, ok, "CreatedDate %v", records[0]["CreatedDate"])
	assert.WithinDuration(t, time.Now(), time.UnixMilli(int64(createdMs)), time.Minute)
}

// jsforce's flow (Bulk.load and Bulk.query): XML jobs with CSV batches,
// XML job and batch info, CSV results ("Id","Success","Created","Error"),
// and for queries an XML result-list and CSV records.
func TestBulkV1CSVLoadAndQueryAsJsforceSendsThem(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	a := newAsync(t, org)
	xmlJob := func(op, extra string) v1Info {
		t.Helper()
		res := a.do(http.MethodPost, "job", "application/xml; charset=utf-8", `<?xml version="1.0" encoding="UTF-8"?>
<jobInfo  xmlns="http://www.force.com/2009/06/asyncapi/dataload">
  <operation>`+op+`</operation>
  <object>Account</object>
  `+extra+`
  <contentType>CSV</contentType>
</jobInfo>`)
		require.Equal(t, http.StatusCreated, res.status, string(res.body))
		return xmlInfo(t, res, "jobInfo")
	}
	job := xmlJob("insert", "")
	assert.Equal(t, "Open", job.State)
	assert.Equal(t, "insert", job.Operation)

	added := a.do(http.MethodPost, "job/"+job.ID+"/batch", "text/csv", "Name,Industry\nAcme,Energy\n\"Globex, Inc\",#N/A\n,Energy\n")
	require.Equal(t, http.StatusCreated, added.status, string(added.body))
	batch := xmlInfo(t, added, "batchInfo")
	assert.Equal(t, "Queued", batch.State)

	status := xmlInfo(t, a.do(http.MethodGet, "job/"+job.ID+"/batch/"+batch.ID, "", ""), "batchInfo")
	assert.Equal(t, "Completed", status.State)
	list := a.do(http.MethodGet, "job/"+job.ID+"/batch", "", "")
	assert.Contains(t, string(list.body), "<batchInfoList")
	assert.Contains(t, string(list.body), batch.ID)

	res := a.do(http.MethodGet, "job/"+job.ID+"/batch/"+batch.ID+"/result", "", "")
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assert.Equal(t, "text/csv", res.header.Get("Content-Type"))
	rows, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4, string(res.body))
	assert.Equal(t, []string{"Id", "Success", "Created", "Error"}, rows[0])
	assert.Equal(t, []string{"true", "true", ""}, rows[1][1:])
	assert.Equal(t, "true", rows[2][1])
	assert.Equal(t, []string{"", "false", "false"}, rows[3][:3], "an empty cell is left out: the required Name is missing")
	assert.True(t, strings.HasPrefix(rows[3][3], "REQUIRED_FIELD_MISSING:"), rows[3][3])

	req := a.do(http.MethodGet, "job/"+job.ID+"/batch/"+batch.ID+"/request", "", "")
	assert.Contains(t, string(req.body), "Globex, Inc")

	closed := xmlInfo(t, a.do(http.MethodPost, "job/"+job.ID, "application/xml; charset=utf-8",
		`<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Closed</state></jobInfo>`), "jobInfo")
	assert.Equal(t, "Closed", closed.State)

	// Bulk.query: a query job whose batch is the SOQL sent as text/csv.
	qj := xmlJob("query", "")
	qb := xmlInfo(t, a.do(http.MethodPost, "job/"+qj.ID+"/batch", "text/csv", "SELECT Id, Name, Owner.Name FROM Account ORDER BY Name"), "batchInfo")
	require.Equal(t, "Completed", xmlInfo(t, a.do(http.MethodGet, "job/"+qj.ID+"/batch/"+qb.ID, "", ""), "batchInfo").State)
	rl := a.do(http.MethodGet, "job/"+qj.ID+"/batch/"+qb.ID+"/result", "", "")
	var resultList struct {
		XMLName xml.Name `xml:"result-list"`
		Result  []string `xml:"result"`
	}
	require.NoError(t, xml.Unmarshal(rl.body, &resultList), string(rl.body))
	require.Len(t, resultList.Result, 1)
	out := a.do(http.MethodGet, "job/"+qj.ID+"/batch/"+qb.ID+"/result/"+resultList.Result[0], "", "")
	rows, err = csv.NewReader(strings.NewReader(string(out.body))).ReadAll()
	require.NoError(t, err, string(out.body))
	require.Len(t, rows, 3, string(out.body))
	assert.Equal(t, []string{"Id", "Name", "Owner.Name"}, rows[0])
	assert.Equal(t, "Acme", rows[1][1])
	assert.Equal(t, "Globex, Inc", rows[2][1])
	assert.NotEmpty(t, rows[1][2])
}

// "Errors" and "HTTP Status Codes": every refusal is an exceptionCode and
// exceptionMessage with status 400 (405 for a method other than GET or
// POST), in XML, or JSON for JSON requests and jobs.
func TestBulkV1Errors(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{})
	a := newAsync(t, org)
	xmlJob := `<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>%s</operation><object>%s</object><contentType>%s</contentType></jobInfo>`
	code := func(res answer, status int) string {
		t.Helper()
		require.Equal(t, status, res.status, string(res.body))
		if strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
			return jsonInfo(t, res).ExceptionCode
		}
		info := xmlInfo(t, res, "error")
		assert.NotEmpty(t, info.ExceptionMessage)
		return info.ExceptionCode
	}

	// No session, or a wrong one.
	noSession := do(t, a.c, "", http.MethodGet, a.base+"job/750000000000000", "")
	assert.Equal(t, "InvalidSessionId", code(noSession, http.StatusBadRequest))
	bearerOnly := do(t, a.c, a.token, http.MethodPost, a.base+"job", `{"operation":"insert","object":"Account","contentType":"JSON"}`)
	assert.Equal(t, "InvalidSessionId", code(bearerOnly, http.StatusBadRequest), "Bulk API 1.0 reads X-SFDC-Session")

	// No false pass: the port that plays 443 (the instance_url a token
	// answer names) does not take a mutual TLS user's calls, Bulk API 1.0's
	// included.
	standard := do(t, a.c, "", http.MethodPost, org.StandardURL+"/services/async/65.0/job",
		`{"operation":"insert","object":"Account","contentType":"JSON"}`, "X-SFDC-Session", a.token)
	assert.Equal(t, "MUTUAL_AUTHENTICATION_FAILED", code(standard, http.StatusUnauthorized))

	// "Create a Job": the operation is case-sensitive; unknown objects,
	// upsert without an external id field are InvalidJob; XML batches are
	// not served by the fake.
	assert.Equal(t, "InvalidJob", code(a.do(http.MethodPost, "job", "application/xml", fmtS(xmlJob, "INSERT", "Account", "CSV")), http.StatusBadRequest))
	assert.Equal(t, "InvalidJob", code(a.do(http.MethodPost, "job", "application/xml", fmtS(xmlJob, "insert", "Nope__c", "CSV")), http.StatusBadRequest))
	assert.Equal(t, "InvalidJob", code(a.do(http.MethodPost, "job", "application/xml", fmtS(xmlJob, "upsert", "Account", "CSV")), http.StatusBadRequest))
	assert.Equal(t, "InvalidJob", code(a.do(http.MethodPost, "job", "application/xml", fmtS(xmlJob, "insert", "Account", "XML")), http.StatusBadRequest))
	assert.Equal(t, "InvalidXML", code(a.do(http.MethodPost, "job", "application/xml", "<jobInfo"), http.StatusBadRequest))
	assert.Equal(t, "InvalidJob", code(a.do(http.MethodPost, "job", "application/json", `{"operation":"insert","object":"Nope__c","contentType":"JSON"}`), http.StatusBadRequest))
	assert.Equal(t, "InvalidOperation", code(a.do(http.MethodGet, "jobs/x", "", ""), http.StatusBadRequest))
	assert.Equal(t, "InvalidJob", code(a.do(http.MethodGet, "job/750000000000000AAA", "", ""), http.StatusBadRequest))
	assert.Equal(t, "InvalidUrl", code(a.do(http.MethodDelete, "job", "", ""), http.StatusMethodNotAllowed))

	created := a.do(http.MethodPost, "job", "application/xml", fmtS(xmlJob, "insert", "Account", "CSV"))
	job := xmlInfo(t, created, "jobInfo")
	assert.Equal(t, "InvalidBatch", code(a.do(http.MethodPost, "job/"+job.ID+"/batch", "application/json", `[{"Name":"x"}]`), http.StatusBadRequest))
	assert.Equal(t, "InvalidBatch", code(a.do(http.MethodGet, "job/"+job.ID+"/batch/751000000000000AAA", "", ""), http.StatusBadRequest))
	// A column the object lacks fails the batch, not the request.
	bad := xmlInfo(t, a.do(http.MethodPost, "job/"+job.ID+"/batch", "text/csv", "Name,Nope__c\nx,y\n"), "batchInfo")
	failed := xmlInfo(t, a.do(http.MethodGet, "job/"+job.ID+"/batch/"+bad.ID, "", ""), "batchInfo")
	assert.Equal(t, "Failed", failed.State)
	assert.Equal(t, "InvalidBatch : Field name not found : Nope__c", failed.StateMessage)

	// "Close a Job" then a batch: the job is no longer Open.
	xmlInfo(t, a.do(http.MethodPost, "job/"+job.ID, "application/xml", `<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Closed</state></jobInfo>`), "jobInfo")
	assert.Equal(t, "InvalidJobState", code(a.do(http.MethodPost, "job/"+job.ID+"/batch", "text/csv", "Name\nx\n"), http.StatusBadRequest))
	assert.Equal(t, "InvalidJobState", code(a.do(http.MethodPost, "job/"+job.ID, "application/xml", `<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Closed</state></jobInfo>`), http.StatusBadRequest))
	aborted := xmlInfo(t, a.do(http.MethodPost, "job/"+job.ID, "application/xml", `<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Aborted</state></jobInfo>`), "jobInfo")
	assert.Equal(t, "Aborted", aborted.State)

	// "Use Bulk Query": a query the engine refuses, or one Bulk API does not
	// support (aggregate functions), fails its batch with the reason.
	qj := jsonInfo(t, a.do(http.MethodPost, "job", "application/json", `{"operation":"query","object":"Account","contentType":"JSON"}`))
	for q, want := range map[string]string{
		"SELECT Nope__c FROM Account":  "InvalidBatch : Failed to process query: INVALID_FIELD",
		"SELECT COUNT() FROM Account":  "InvalidBatch : Failed to process query: FeatureNotEnabled",
		"SELECT Name FROM Account WHE": "InvalidBatch : Failed to process query: MALFORMED_QUERY",
	} {
		qb := jsonInfo(t, a.do(http.MethodPost, "job/"+qj.ID+"/batch", "application/json", q))
		st := jsonInfo(t, a.do(http.MethodGet, "job/"+qj.ID+"/batch/"+qb.ID, "application/json", ""))
		assert.Equal(t, "Failed", st.State, q)
		assert.True(t, strings.HasPrefix(st.StateMessage, want), "%s: %s", q, st.StateMessage)
		assert.Equal(t, "InvalidBatch", code(a.do(http.MethodGet, "job/"+qj.ID+"/batch/"+qb.ID+"/result", "application/json", ""), http.StatusBadRequest))
	}
}

// The insert cap applies to Bulk API 1.0 as to 2.0: a batch the fake would
// not keep fails whole, no row reported as a success.
func TestBulkV1InsertCap(t *testing.T) {
	org := invoiceOrg(t, salesforcetest.Config{BulkStoreMaxRecords: 2})
	a := newAsync(t, org)
	job := jsonInfo(t, a.do(http.MethodPost, "job", "application/json", `{"operation":"insert","object":"Account","contentType":"JSON"}`))
	ok := jsonInfo(t, a.do(http.MethodPost, "job/"+job.ID+"/batch", "application/json", `[{"Name":"a"},{"Name":"b"}]`))
	over := jsonInfo(t, a.do(http.MethodPost, "job/"+job.ID+"/batch", "application/json", `[{"Name":"c"}]`))
	assert.Equal(t, "Completed", jsonInfo(t, a.do(http.MethodGet, "job/"+job.ID+"/batch/"+ok.ID, "", "")).State)
	st := jsonInfo(t, a.do(http.MethodGet, "job/"+job.ID+"/batch/"+over.ID, "", ""))
	assert.Equal(t, "Failed", st.State)
	assert.True(t, strings.HasPrefix(st.StateMessage, "FakeOrgRowCap : "), st.StateMessage)
	assert.Equal(t, 0, st.NumberRecordsProcessed)

	// An upsert can create every row: capped alike.
	up := jsonInfo(t, a.do(http.MethodPost, "job", "application/json", `{"operation":"upsert","object":"Account","externalIdFieldName":"External_Id__c","contentType":"JSON"}`))
	overUp := jsonInfo(t, a.do(http.MethodPost, "job/"+up.ID+"/batch", "application/json", `[{"Name":"x","External_Id__c":"1"},{"Name":"y","External_Id__c":"2"},{"Name":"z","External_Id__c":"3"}]`))
	st = jsonInfo(t, a.do(http.MethodGet, "job/"+up.ID+"/batch/"+overUp.ID, "", ""))
	assert.Equal(t, "Failed", st.State)
	assert.True(t, strings.HasPrefix(st.StateMessage, "FakeOrgRowCap : "), st.StateMessage)
}

func fmtS(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// TestBulkV1StampsWithTheOrgsClock: job and batch infos take createdDate and
// systemModstamp from the org's clock (Config.Now), as records do: under a
// stopped clock every stamp is its time.
func TestBulkV1StampsWithTheOrgsClock(t *testing.T) {
	stopped := time.Now().UTC().Truncate(time.Millisecond)
	org := invoiceOrg(t, salesforcetest.Config{Now: func() time.Time { return stopped }})
	a := newAsync(t, org)
	want := stopped.Format("2006-01-02T15:04:05.000Z")
	type stamps struct {
		ID             string `json:"id"`
		CreatedDate    string `json:"createdDate"`
		SystemModstamp string `json:"systemModstamp"`
	}
	read := func(ans answer) stamps {
		t.Helper()
		var s stamps
		require.NoError(t, json.Unmarshal(ans.body, &s), string(ans.body))
		return s
	}

	job := read(a.do(http.MethodPost, "job", "application/json", `{"operation":"insert","object":"Account","contentType":"JSON"}`))
	assert.Equal(t, want, job.CreatedDate)
	batch := read(a.do(http.MethodPost, "job/"+job.ID+"/batch", "application/json", `[{"Name":"Acme"}]`))
	assert.Equal(t, want, batch.CreatedDate, "the batch's createdDate")
	done := read(a.do(http.MethodGet, "job/"+job.ID+"/batch/"+batch.ID, "application/json", ""))
	assert.Equal(t, want, done.SystemModstamp, "the batch's systemModstamp once processed")
	closed := read(a.do(http.MethodPost, "job/"+job.ID, "application/json", `{"state":"Closed"}`))
	assert.Equal(t, want, closed.SystemModstamp, "the job's systemModstamp once closed")
}
