package salesforcetest

import (
	"fmt"
	"net/http"
	"sync"
)

// DefaultDailyAPIRequests is the daily API allocation of an org when
// Config.DailyAPIRequests is 0 (a Developer Edition org's 15,000).
const DefaultDailyAPIRequests = 15000

// apiLimits counts the calls against the daily allocation and those in
// flight against the concurrency limit.
type apiLimits struct {
	mu            sync.Mutex
	max           int64
	used          int64
	maxConcurrent int // 0: no limit
	inFlight      int
}

// acquire counts a call. Past the daily allocation, or with maxConcurrent
// calls already in flight, it answers 403 REQUEST_LIMIT_EXCEEDED ("Status
// Codes and Error Responses": "If the error code is REQUEST_LIMIT_EXCEEDED,
// you've exceeded API request limits in your org"). The messages are the ones
// Salesforce sends for its TotalRequests and ConcurrentRequests limits; the
// Guide does not document them.
func (l *apiLimits) acquire() (func(), *APIError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.used >= l.max {
		return nil, apiErr(http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
	}
	if l.maxConcurrent > 0 && l.inFlight >= l.maxConcurrent {
		return nil, apiErr(http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (Concurrent API Requests) Limit exceeded.")
	}
	l.used++
	l.inFlight++
	return func() {
		l.mu.Lock()
		l.inFlight--
		l.mu.Unlock()
	}, nil
}

// charge counts one more call against the daily allocation without
// holding a concurrency slot, for a subrequest of a call already in flight
// (Composite Batch: each subrequest counts).
func (l *apiLimits) charge() *APIError {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.used >= l.max {
		return apiErr(http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
	}
	l.used++
	return nil
}

// header is Sforce-Limit-Info's value (REST API Developer Guide, "Limit Info Header").
func (l *apiLimits) header() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("api-usage=%d/%d", l.used, l.max)
}

func (l *apiLimits) usage() (used, max int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.used, l.max
}

// SetAPIUsage sets how many calls of the daily allocation are used, e.g. to
// put the org a few calls from its limit.
func (f Faults) SetAPIUsage(used int64) {
	o := f.o
	o.limits.mu.Lock()
	o.limits.used = used
	o.limits.mu.Unlock()
}

// otherLimits are the rest of the limits the Limits resource documents, with
// a Developer Edition org's allocations; the fake uses none of them.
var otherLimits = []struct {
	name string
	max  int64
}{
	{"ActiveScratchOrgs", 3}, {"AnalyticsExternalDataSizeMB", 40960},
	{"ConcurrentAsyncGetReportInstances", 200}, {"ConcurrentSyncReportRuns", 20},
	{"DailyAnalyticsDataflowJobExecutions", 60}, {"DailyAnalyticsUploadedFilesSizeMB", 51200},
	{"DailyAsyncApexExecutions", 250000}, {"DailyAsyncApexTests", 500},
	{"DailyBulkApiBatches", 15000}, {"DailyBulkV2QueryFileStorageMB", 976562}, {"DailyBulkV2QueryJobs", 10000},
	{"DailyDeliveredPlatformEvents", 10000}, {"DailyDurableGenericStreamingApiEvents", 10000},
	{"DailyDurableStreamingApiEvents", 10000}, {"DailyEinsteinDataInsightsStoryCreation", 1000},
	{"DailyEinsteinDiscoveryPredictAPICalls", 50000}, {"DailyEinsteinDiscoveryPredictionsByCDC", 500000},
	{"DailyEinsteinDiscoveryStoryCreation", 100}, {"DailyFunctionsApiCallLimit", 235000},
	{"DailyGenericStreamingApiEvents", 10000}, {"DailyScratchOrgs", 6}, {"DailyStandardVolumePlatformEvents", 10000},
	{"DailyStreamingApiEvents", 10000}, {"DailyWorkflowEmails", 1890},
	{"DataStorageMB", 5}, {"DurableStreamingApiConcurrentClients", 20}, {"FileStorageMB", 20},
	{"HourlyAsyncReportRuns", 1200}, {"HourlyDashboardRefreshes", 200}, {"HourlyDashboardResults", 5000},
	{"HourlyDashboardStatuses", 999999999}, {"HourlyLongTermIdMapping", 100000}, {"HourlyManagedContentPublicRequests", 50000},
	{"HourlyODataCallout", 10000}, {"HourlyPublishedPlatformEvents", 50000}, {"HourlyPublishedStandardVolumePlatformEvents", 1000},
	{"HourlyShortTermIdMapping", 100000}, {"HourlySyncReportRuns", 500}, {"HourlyTimeBasedWorkflow", 50},
	{"MassEmail", 10}, {"MonthlyEinsteinDiscoveryStoryCreation", 500}, {"MonthlyPlatformEventsUsageEntitlement", 0},
	{"Package2VersionCreates", 6}, {"Package2VersionCreatesWithoutValidation", 500},
	{"PermissionSets", 1500}, {"PrivateConnectOutboundCalloutHourlyLimitMB", 0},
	{"SingleEmail", 15}, {"StreamingApiConcurrentClients", 20},
}

// handleLimits: "Limits" — each limit's Max and Remaining; DailyApiRequests
// follows the org's allocation and usage.
func (o *Org) handleLimits(w http.ResponseWriter) {
	used, max := o.limits.usage()
	out := map[string]map[string]int64{"DailyApiRequests": {"Max": max, "Remaining": max - used}}
	for _, l := range otherLimits {
		out[l.name] = map[string]int64{"Max": l.max, "Remaining": l.max}
	}
	writeJSON(w, http.StatusOK, out)
}
