package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/internal/testtool"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Issue 21, items 1 and 5: a client nobody here wrote — Python 3's standard
// library HTTP stack (http.client and urllib.request with an ssl context
// holding the client certificate) — logs in with the JWT bearer flow, calls
// instance_url as given and gets Salesforce's 401 MUTUAL_AUTHENTICATION_FAILED
// (Salesforce Help, "Configure Your API Client to Use Mutual
// Authentication": a user who must use mutual TLS is refused on port 443),
// then queries and creates on the port `sfmtls fake-org` says plays 8443
// (REST API Developer Guide, "Query" and "Create a Record").
func TestFakeOrgServesPythonsStandardHTTPStack(t *testing.T) {
	python := testtool.Need(t, "python3")
	testtool.Need(t, "openssl")
	out, _ := fakeOrg(t)
	dir := regexp.MustCompile(`files in (\S+)`).FindStringSubmatch(out)[1]
	env := []string{
		"MTLS_CERT=" + filepath.Join(dir, "mtls-cert.pem"), "MTLS_KEY=" + filepath.Join(dir, "mtls-key.pem"),
		"JWT_KEY=" + filepath.Join(dir, "jwt-key.pem"), "API_VERSION=" + salesforcetest.APIVersion,
	}
	mapping := regexp.MustCompile(`# ports: (\d+) plays 8443 .*, (\d+) plays 443`).FindStringSubmatch(out)
	require.NotNil(t, mapping, out)
	for _, l := range strings.Split(out, "\n") {
		if kv, ok := strings.CutPrefix(l, "export SF_"); ok && !strings.Contains(kv, "$(") {
			env = append(env, "SF_"+kv)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join("testdata", "fakeorg_client.py"))
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.Output()
	var stderr []byte
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	require.NoError(t, err, "%s", stderr)

	var got struct {
		TokenStatus int                `json:"token_status"`
		InstanceURL string             `json:"instance_url"`
		AsGiven     [2]json.RawMessage `json:"as_given"`
		QueryStatus int                `json:"query_status"`
		QueryNames  []string           `json:"query_names"`
		Create      [2]json.RawMessage `json:"create"`
		NamesAfter  []string           `json:"names_after"`
	}
	require.NoError(t, json.Unmarshal(stdout, &got), "%s", stdout)
	require.Equal(t, 200, got.TokenStatus)

	// instance_url names the port that plays 443, never the one that plays 8443.
	assert.True(t, strings.HasSuffix(got.InstanceURL, ":"+mapping[2]), got.InstanceURL)
	assert.False(t, strings.HasSuffix(got.InstanceURL, ":"+mapping[1]), got.InstanceURL)
	assert.JSONEq(t, `401`, string(got.AsGiven[0]))
	assert.JSONEq(t, `[{"message":"This session could not be mutually authenticated for the use with REST API","errorCode":"MUTUAL_AUTHENTICATION_FAILED"}]`,
		string(got.AsGiven[1]))

	// The port that plays 8443 serves the API.
	assert.Equal(t, 200, got.QueryStatus)
	assert.Equal(t, []string{"Acme", "Globex", "Initech"}, got.QueryNames)
	assert.JSONEq(t, `201`, string(got.Create[0]))
	var created struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	require.NoError(t, json.Unmarshal(got.Create[1], &created))
	assert.True(t, created.Success)
	assert.Regexp(t, `^001\w{15}$`, created.ID)
	assert.Equal(t, []string{"Acme", "From Python", "Globex", "Initech"}, got.NamesAfter)
}
