package salesforcetest

import (
	"net/http"
	"strings"

	"github.com/sfmtls/sfmtls/internal/jwtbearer"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
)

// orgID is the org's 18-character id.
var orgID, _ = data.NormalizeID(orgID15)

// organizationFields are the org's Organization record (Object Reference,
// "Organization"): a sandbox when its logins are for test.salesforce.com,
// as simple-salesforce's is_sandbox() reads IsSandbox.
func organizationFields(audience string) map[string]any {
	sandbox := audience == jwtbearer.SandboxAudience
	edition := "Developer Edition"
	if sandbox {
		edition = "Enterprise Edition"
	}
	return map[string]any{
		"Name": "sfmtls fake org", "OrganizationType": edition, "InstanceName": "FAKE1", "IsSandbox": sandbox,
		"Country": "US", "LanguageLocaleKey": "en_US", "TimeZoneSidKey": "America/Los_Angeles",
	}
}

// userID returns the id of the User record named username, creating the
// record for a user the org did not know (a user PreAuthorize named).
func (o *Org) userID(username string) string {
	return o.data.User(username)
}

// identityURL is the "id" of a token response: the login host's /id/orgId/userId.
func (o *Org) identityURL(username string) string {
	return o.URL + "/id/" + orgID + "/" + o.userID(username)
}

// identityFor answers 403 Bad_OAuth_Token for a call without a valid
// session, as Salesforce's identity service does (it answers text, not the
// REST error array; its documentation does not list the errors), and returns
// the session's user otherwise.
func (o *Org) identityFor(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	o.apiRequests.Add(1)
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	username, valid := o.sessionFor(token)
	if !valid || !o.mutualAuthOK(r) {
		o.unauthorized.Add(1)
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("Bad_OAuth_Token"))
		return nil, false
	}
	id := o.userID(username)
	u, _ := o.data.Snapshot("User", id)
	// The URLs start with the instance_url the token answer gave.
	base := o.StandardURL
	urls := map[string]string{
		"rest":          base + "/services/data/v{version}/",
		"sobjects":      base + "/services/data/v{version}/sobjects/",
		"search":        base + "/services/data/v{version}/search/",
		"query":         base + "/services/data/v{version}/query/",
		"limits":        base + "/services/data/v{version}/limits/",
		"profile":       base + "/" + id,
		"custom_domain": base,
	}
	return map[string]any{
		"user_id": id, "organization_id": orgID, "username": u["Username"], "email": u["Email"],
		"first_name": u["FirstName"], "last_name": u["LastName"], "display_name": u["Name"],
		"nick_name": u["Alias"], "active": u["IsActive"], "user_type": "STANDARD",
		"language": u["LanguageLocaleKey"], "locale": "en_US", "timezone": u["TimeZoneSidKey"],
		"utcOffset": -28800000, "last_modified_date": u["LastModifiedDate"], "urls": urls,
		"identity": o.URL + "/id/" + orgID + "/" + id,
	}, true
}

// handleIdentity: the Identity URL (Salesforce Help, "Identity URLs"): GET
// /id/orgId/userId with the session's token describes the user; another
// user's or org's id answers 403 Bad_Id (the page does not list the errors).
func (o *Org) handleIdentity(w http.ResponseWriter, r *http.Request) {
	info, ok := o.identityFor(w, r)
	if !ok {
		return
	}
	want := "/id/" + orgID + "/" + info["user_id"].(string)
	if p := strings.TrimSuffix(r.URL.Path, "/"); p != want && !strings.EqualFold(p, "/id/"+orgID15+"/"+info["user_id"].(string)[:15]) {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("Bad_Id"))
		return
	}
	id := info["identity"]
	delete(info, "identity")
	info["id"] = id
	info["asserted_user"] = true
	info["is_app_installed"] = true
	writeJSON(w, http.StatusOK, info)
}

// handleUserinfo: the OpenID Connect UserInfo endpoint (Salesforce Help,
// "UserInfo Endpoint"): the same facts under the standard claim names.
func (o *Org) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	info, ok := o.identityFor(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sub": info["identity"], "user_id": info["user_id"], "organization_id": info["organization_id"],
		"preferred_username": info["username"], "nickname": info["nick_name"], "name": info["display_name"],
		"email": info["email"], "email_verified": true, "given_name": info["first_name"],
		"family_name": info["last_name"], "zoneinfo": info["timezone"], "active": info["active"],
		"user_type": info["user_type"], "language": info["language"], "locale": info["locale"],
		"utcOffset": info["utcOffset"], "updated_at": info["last_modified_date"], "urls": info["urls"],
	})
}
