package salesforcetest

import (
	"net/http"
	"strings"
)

// controlPrefix is where the fake's own control endpoint lives. It is not a
// Salesforce resource: it lets a test in another language or process read the
// counters and expire the sessions, as Go tests do with Stats and
// ExpireAllSessions.
//
//	GET  /__sfmtls/stats            {"tlsHandshakes":…,"tokenRequests":…,"tokensIssued":…,
//	                                 "apiRequests":…,"unauthorized":…,"apiUsage":…,"apiAllocation":…}
//	POST /__sfmtls/expire-sessions  204; every issued token now gets 401 INVALID_SESSION_ID
//
// It needs no token; on the mutual TLS port the client certificate is still required.
const controlPrefix = "/__sfmtls/"

func (o *Org) handleControl(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, controlPrefix), "/") {
	case "stats":
		if !allow(w, r, http.MethodGet) {
			return
		}
		st := o.Stats()
		used, max := o.limits.usage()
		writeJSON(w, http.StatusOK, map[string]int64{
			"tlsHandshakes": st.TLSHandshakes, "tokenRequests": st.TokenRequests, "tokensIssued": st.TokensIssued,
			"apiRequests": st.APIRequests, "unauthorized": st.Unauthorized, "apiUsage": used, "apiAllocation": max,
		})
	case "expire-sessions":
		if !allow(w, r, http.MethodPost) {
			return
		}
		o.Faults().ExpireAllSessions()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeAPIError(w, notFound())
	}
}
