package salesforcetest

import (
	"net/http"
	"time"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// Data replication: "sObject Get Updated" and "sObject Get Deleted" (REST
// API Developer Guide), with the rules of getUpdated() and getDeleted() in
// the SOAP API Developer Guide. A deleted record stays in the store as its
// tombstone (IsDeleted true), its SystemModstamp the time of the delete,
// which is where Salesforce takes deletedDate from; a hard-deleted (purged)
// record leaves none.

const (
	// updatedWindow and deletedWindow: "Results are returned for no more
	// than 30 days" (Get Updated) and "15 days" (Get Deleted) "previous to
	// the day the call is executed".
	updatedWindow = 30 * 24 * time.Hour
	deletedWindow = 15 * 24 * time.Hour
	// maxReplicationIDs: "There is a limit of 600,000 IDs returned from this
	// resource. If more than 600,000 IDs are found, EXCEEDED_ID_LIMIT is
	// returned."
	maxReplicationIDs = 600_000
)

// replicationRange reads start and end: ISO 8601 date-times whose seconds
// the API drops ("12:30:15 becomes 12:30:00 UTC"); start must come before
// end (INVALID_REPLICATION_DATE) and not before the window the resource
// covers. The guide names INVALID_REPLICATION_DATE for the order of the
// dates; the fake answers it for every unusable date, and MISSING_ARGUMENT
// for a missing one.
func replicationRange(r *http.Request, now time.Time, window time.Duration) (start, end time.Time, err *APIError) {
	q := r.URL.Query()
	var ts [2]time.Time
	for i, name := range []string{"start", "end"} {
		s := q.Get(name)
		if s == "" {
			return start, end, apiErr(http.StatusBadRequest, "MISSING_ARGUMENT", name+" is required: an ISO 8601 date and time such as 2024-05-05T00:00:00+00:00, URL-encoded")
		}
		t, ok := data.ParseDateTime(s)
		if !ok {
			return start, end, apiErr(http.StatusBadRequest, "INVALID_REPLICATION_DATE", name+" must be an ISO 8601 date and time such as 2024-05-05T00:00:00+00:00 (URL-encoded, so + is %2B), not "+s)
		}
		ts[i] = t.UTC().Truncate(time.Minute)
	}
	start, end = ts[0], ts[1]
	if !start.Before(end) {
		return start, end, apiErr(http.StatusBadRequest, "INVALID_REPLICATION_DATE", "start must be before end")
	}
	if earliest := windowStart(now, window); start.Before(earliest) {
		return start, end, apiErr(http.StatusBadRequest, "INVALID_REPLICATION_DATE",
			"start must be on or after "+earliest.Format(sfDateTime)+": this resource covers "+window.String()+" before today")
	}
	return start, end, nil
}

// windowStart is the earliest start a resource covering window before today
// takes (Get Deleted's earliestDateAvailable).
func windowStart(now time.Time, window time.Duration) time.Time {
	return now.UTC().Add(-window).Truncate(24 * time.Hour)
}

// replicated lists the records of obj, deleted ones too, whose
// SystemModstamp lies in [start, end), with that time; more than
// maxReplicationIDs of them is EXCEEDED_ID_LIMIT.
func (o *Org) replicated(obj string, deleted bool, start, end time.Time) (ids []string, dates []time.Time, _ *APIError) {
	o.data.Read(func(rd *data.Reader) {
		for _, rec := range rd.Records(obj, true) {
			if isDeleted, _ := rec["IsDeleted"].(bool); isDeleted != deleted {
				continue
			}
			stamp, _ := rec["SystemModstamp"].(string)
			t, ok := data.ParseDateTime(stamp)
			if !ok || t.Before(start) || !t.Before(end) {
				continue
			}
			id, _ := rec["Id"].(string)
			ids, dates = append(ids, id), append(dates, t)
		}
	})
	if len(ids) > maxReplicationIDs {
		return nil, nil, apiErr(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "more than 600,000 ids: choose start and end dates closer together")
	}
	return ids, dates, nil
}

// latestCovered is the last time the answer covers: end, or now when end is
// later ("If there is a value, it is less than or equal to endDate").
func latestCovered(end, now time.Time) string {
	if now := now.UTC().Truncate(time.Minute); now.Before(end) {
		end = now
	}
	return end.Format(sfDateTime)
}

// handleGetUpdated: "sObject Get Updated" — the ids of the records added or
// changed in the range (by SystemModstamp), and latestDateCovered.
func (o *Org) handleGetUpdated(w http.ResponseWriter, r *http.Request, obj string) {
	now := o.now()
	start, end, err := replicationRange(r, now, updatedWindow)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	ids, _, err := o.replicated(obj, false, start, end)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ids": ids, "latestDateCovered": latestCovered(end, now)})
}

// handleGetDeleted: "sObject Get Deleted" — the deleted records in the range
// with their deletedDate, earliestDateAvailable (the start of the window the
// fake keeps) and latestDateCovered.
func (o *Org) handleGetDeleted(w http.ResponseWriter, r *http.Request, obj string) {
	now := o.now()
	start, end, err := replicationRange(r, now, deletedWindow)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	ids, dates, err := o.replicated(obj, true, start, end)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	type deletedRecord struct {
		ID          string `json:"id"`
		DeletedDate string `json:"deletedDate"`
	}
	records := make([]deletedRecord, len(ids))
	for i, id := range ids {
		records[i] = deletedRecord{ID: id, DeletedDate: dates[i].UTC().Format(sfDateTime)}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"deletedRecords":        records,
		"earliestDateAvailable": windowStart(now, deletedWindow).Format(sfDateTime),
		"latestDateCovered":     latestCovered(end, now),
	})
}
