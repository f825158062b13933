package salesforcetest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// REST API Developer Guide, "sObject Get Updated" and "sObject Get Deleted"
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getupdated.htm,
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getdeleted.htm),
// and getUpdated()/getDeleted() in the SOAP API Developer Guide: ids by
// SystemModstamp in [start, end) with the seconds dropped, deleted records
// with their deletedDate, latestDateCovered no later than end; start must
// precede end (INVALID_REPLICATION_DATE) and lie within 30 days (updated)
// or 15 days (deleted) of today.
func TestGetUpdatedAndDeleted(t *testing.T) {
	clock := &testClock{}
	org := invoiceOrg(t, salesforcetest.Config{Now: clock.Now})
	c, token := login(t, org)
	t0 := clock.Now().UTC()
	ids := org.Data().Insert(t, "Account", map[string]any{"Name": "Untouched"}, map[string]any{"Name": "Changed"}, map[string]any{"Name": "Doomed"})
	clock.Advance(10 * time.Minute)
	base := org.URL + "/services/data/v65.0/sobjects/Account/"
	a := do(t, c, token, http.MethodPatch, base+ids[1], `{"Name":"Changed again"}`)
	require.Equal(t, http.StatusNoContent, a.status, string(a.body))
	clock.Advance(10 * time.Minute)
	a = do(t, c, token, http.MethodDelete, base+ids[2], "")
	require.Equal(t, http.StatusNoContent, a.status, string(a.body))
	deletedAt := clock.Now().UTC()
	clock.Advance(10 * time.Minute)

	iso := func(t time.Time) string { return url.QueryEscape(t.Format("2006-01-02T15:04:05-07:00")) }
	get := func(kind string, start, end time.Time) answer {
		return do(t, c, token, http.MethodGet, base+kind+"/?start="+iso(start)+"&end="+iso(end), "")
	}
	updated := func(start, end time.Time) ([]string, string) {
		t.Helper()
		a := get("updated", start, end)
		require.Equal(t, http.StatusOK, a.status, string(a.body))
		var res struct {
			IDs               []string `json:"ids"`
			LatestDateCovered string   `json:"latestDateCovered"`
		}
		require.NoError(t, json.Unmarshal(a.body, &res))
		require.NotNil(t, res.IDs, "ids is an array even when empty: %s", a.body)
		return res.IDs, res.LatestDateCovered
	}
	got, latest := updated(t0.Add(-time.Minute), t0.Add(5*time.Minute))
	assert.Equal(t, []string{ids[0]}, got, "the changed record's SystemModstamp moved on; the deleted one is not updated")
	assert.Equal(t, t0.Add(5*time.Minute).Truncate(time.Minute).Format("2006-01-02T15:04:05.000-0700"), latest)
	got, _ = updated(t0.Add(5*time.Minute), t0.Add(15*time.Minute))
	assert.Equal(t, []string{ids[1]}, got)
	got, latest = updated(t0.Add(-time.Minute), t0.Add(time.Hour))
	assert.Equal(t, []string{ids[0], ids[1]}, got)
	assert.Equal(t, clock.Now().UTC().Truncate(time.Minute).Format("2006-01-02T15:04:05.000-0700"), latest, "no later than now")

	a = get("deleted", t0.Add(-time.Minute), t0.Add(time.Hour))
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var del struct {
		DeletedRecords []struct {
			ID          string `json:"id"`
			DeletedDate string `json:"deletedDate"`
		} `json:"deletedRecords"`
		EarliestDateAvailable string `json:"earliestDateAvailable"`
		LatestDateCovered     string `json:"latestDateCovered"`
	}
	require.NoError(t, json.Unmarshal(a.body, &del))
	require.Len(t, del.DeletedRecords, 1)
	assert.Equal(t, ids[2], del.DeletedRecords[0].ID)
	when, err := time.Parse("2006-01-02T15:04:05.000-0700", del.DeletedRecords[0].DeletedDate)
	require.NoError(t, err)
	assert.WithinDuration(t, deletedAt, when, time.Second)
	assert.NotEmpty(t, del.EarliestDateAvailable)
	assert.NotEmpty(t, del.LatestDateCovered)
	assert.Equal(t, clock.Now().UTC().Add(-15*24*time.Hour).Truncate(24*time.Hour).Format("2006-01-02T15:04:05.000-0700"),
		del.EarliestDateAvailable, "the start of the 15 days before today")
	assert.Equal(t, clock.Now().UTC().Truncate(time.Minute).Format("2006-01-02T15:04:05.000-0700"), del.LatestDateCovered, "no later than now")
	a = get("deleted", t0.Add(-time.Minute), deletedAt.Add(-2*time.Minute))
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	assert.Contains(t, string(a.body), `"deletedRecords":[]`)

	now := clock.Now().UTC()
	for _, tc := range []struct{ url, code string }{
		{base + "updated/?start=" + iso(now) + "&end=" + iso(now.Add(-time.Hour)), "INVALID_REPLICATION_DATE"},
		{base + "updated/?start=" + iso(now) + "&end=" + iso(now.Add(30*time.Second).Truncate(time.Minute).Add(-time.Second)), "INVALID_REPLICATION_DATE"},
		{base + "updated/?start=" + iso(now.Add(-31*24*time.Hour)) + "&end=" + iso(now), "INVALID_REPLICATION_DATE"},
		{base + "deleted/?start=" + iso(now.Add(-16*24*time.Hour)) + "&end=" + iso(now), "INVALID_REPLICATION_DATE"},
		{base + "updated/?start=yesterday&end=" + iso(now), "INVALID_REPLICATION_DATE"},
		{base + "updated/?start=" + iso(now.Add(-time.Hour)), "MISSING_ARGUMENT"},
		{base + "deleted/", "MISSING_ARGUMENT"},
	} {
		a := do(t, c, token, http.MethodGet, tc.url, "")
		require.Equal(t, http.StatusBadRequest, a.status, "%s: %s", tc.url, a.body)
		code, _ := a.errorCode(t)
		assert.Equal(t, tc.code, code, tc.url)
	}
	// 16 days back is inside Get Updated's 30-day window.
	_, _ = updated(now.Add(-16*24*time.Hour), now)
	a = do(t, c, token, http.MethodPost, base+"updated/?start="+iso(now.Add(-time.Hour))+"&end="+iso(now), "{}")
	assert.Equal(t, http.StatusMethodNotAllowed, a.status)
}
