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
)

// fakeOrg runs `sfmtls fake-org args...` until the test ends and returns its
// output once the settings are printed.
func fakeOrg(t *testing.T, args ...string) (out string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	buf := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(append([]string{"fake-org"}, args...), &env{ctx: ctx, stdout: buf, stderr: buf, getenv: func(string) string { return "" }})
	}()
	stopped := false
	stop = func() int {
		if stopped {
			return exitOK
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), "# then:") }, 20*time.Second, 10*time.Millisecond, buf.String())
	return buf.String(), stop
}

// shell runs a POSIX shell command line and returns its standard output.
func shell(t *testing.T, line string, env ...string) string {
	t.Helper()
	// Bounded: a stuck TLS exchange must not hang the suite.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(t, err, "%s\n%s", line, stderr)
	return string(out)
}

func lineWithPrefix(t *testing.T, out, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no line starting %q in:\n%s", prefix, out)
	return ""
}

// A client that is not ours — curl and openssl, signing its own JWT — logs in,
// gets 401 on instance_url as given, as on Salesforce, and reads the seeded
// custom object on the mutual TLS port; the printed curl line works; the control endpoint drives the org;
// and the temporary folder with the private keys is gone after Ctrl-C.
func TestFakeOrgServesClientsInAnyLanguage(t *testing.T) {
	testtool.Need(t, "curl")
	testtool.Need(t, "openssl")
	seed := filepath.Join(t.TempDir(), "seed.json")
	require.NoError(t, os.WriteFile(seed, []byte(`{
		"objects": [{"name": "Invoice__c", "fields": [{"name": "Amount__c", "type": "currency", "required": true}]}],
		"records": [{"object": "Invoice__c", "records": [{"Name": "INV-1", "Amount__c": 12.5}, {"Name": "INV-2", "Amount__c": 99}]}]
	}`), 0o600))
	out, stop := fakeOrg(t, "--seed", seed, "--api-limit", "50")

	dir := regexp.MustCompile(`files in (\S+)`).FindStringSubmatch(out)[1]
	for _, name := range []string{"keystore-password", "access-token", "mtls-key.pem", "jwt-key.pem", "mtls.jks", "mulesoft.jks"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}
	vars := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if kv, ok := strings.CutPrefix(l, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
	}

	// The curl line as printed (REST API Developer Guide, "Limits": curl example).
	limits := shell(t, lineWithPrefix(t, out, "curl "))
	var lim map[string]struct{ Max, Remaining int64 }
	require.NoError(t, json.Unmarshal([]byte(limits), &lim), limits)
	assert.Equal(t, int64(50), lim["DailyApiRequests"].Max)

	// The JWT bearer flow by hand, as the Salesforce Help page "OAuth 2.0 JWT
	// Bearer Flow for Server-to-Server Integration" describes it, over mutual TLS.
	pem := func(name string) string { return filepath.Join(dir, name) }
	tlsOpts := "--silent --show-error --max-time 20 --cert " + pem("mtls-cert.pem") + " --key " + pem("mtls-key.pem") + " --cacert " + pem("server-ca.pem")
	token := shell(t, `
b64() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
h=$(printf '{"alg":"RS256"}' | b64)
c=$(printf '{"iss":"%s","sub":"%s","aud":"https://login.salesforce.com","exp":%d}' "$KEY" "$USER_NAME" $(( $(date +%s) + 120 )) | b64)
s=$(printf '%s.%s' "$h" "$c" | openssl dgst -sha256 -sign "$JWT_KEY" | b64)
curl `+tlsOpts+` --fail-with-body "$LOGIN/services/oauth2/token" \
  --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer --data-urlencode "assertion=$h.$c.$s"`,
		"KEY="+vars["SF_CONSUMER_KEY"], "USER_NAME="+vars["SF_USERNAME"], "JWT_KEY="+pem("jwt-key.pem"), "LOGIN="+vars["SF_LOGIN_URL"])
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
		ID          string `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(token), &tok), token)
	// No false pass: instance_url as given is port 443's stand-in, where the
	// API answers 401 MUTUAL_AUTHENTICATION_FAILED, as Salesforce's port 443
	// does for this user (Salesforce Help, "Configure Your API Client to Use
	// Mutual Authentication"); the printed mapping names both ports.
	assert.NotContains(t, tok.InstanceURL, ":"+vars["SF_MTLS_PORT"], "instance_url never names the mutual TLS port")
	assert.Contains(t, out, "token answers' instance_url is "+tok.InstanceURL)
	assert.Contains(t, out, "# ports: "+vars["SF_MTLS_PORT"]+" plays 8443")
	asGiven := shell(t, `curl `+tlsOpts+` -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" "$INSTANCE/services/data/v65.0/limits"`,
		"TOKEN="+tok.AccessToken, "INSTANCE="+tok.InstanceURL)
	assert.True(t, strings.HasSuffix(asGiven, "\n401"), asGiven)
	assert.Contains(t, asGiven, `"errorCode":"MUTUAL_AUTHENTICATION_FAILED"`)
	instance := strings.TrimSuffix(tok.InstanceURL, ":"+portOf(tok.InstanceURL)) + ":" + vars["SF_MTLS_PORT"]

	query := shell(t, `curl `+tlsOpts+` --fail-with-body -G -H "Authorization: Bearer $TOKEN" "$INSTANCE/services/data/v65.0/query/" --data-urlencode "q=SELECT Name, Amount__c FROM Invoice__c ORDER BY Name"`,
		"TOKEN="+tok.AccessToken, "INSTANCE="+instance)
	var page struct {
		TotalSize int `json:"totalSize"`
		Records   []struct {
			Name   string  `json:"Name"`
			Amount float64 `json:"Amount__c"`
		} `json:"records"`
	}
	require.NoError(t, json.Unmarshal([]byte(query), &page), query)
	require.Equal(t, 2, page.TotalSize)
	assert.Equal(t, "INV-1", page.Records[0].Name)
	assert.Equal(t, 12.5, page.Records[0].Amount)

	identity := shell(t, `curl `+tlsOpts+` --fail-with-body -H "Authorization: Bearer $TOKEN" "$ID"`, "TOKEN="+tok.AccessToken, "ID="+tok.ID)
	assert.Contains(t, identity, `"username":"`+vars["SF_USERNAME"]+`"`)

	// The fake's own control endpoint: counters, then every session ended.
	var stats map[string]int64
	require.NoError(t, json.Unmarshal([]byte(shell(t, `curl `+tlsOpts+` --fail-with-body "$LOGIN/__sfmtls/stats"`, "LOGIN="+vars["SF_LOGIN_URL"])), &stats))
	assert.Equal(t, int64(3), stats["tokensIssued"], "the fake-org's own login for the curl line, the Pub/Sub fake's (its change feed), then ours")
	assert.GreaterOrEqual(t, stats["apiRequests"], int64(2))
	shell(t, `curl `+tlsOpts+` --fail-with-body -X POST "$LOGIN/__sfmtls/expire-sessions"`, "LOGIN="+vars["SF_LOGIN_URL"])
	status := shell(t, `curl `+tlsOpts+` -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$INSTANCE/services/data/v65.0/limits"`,
		"TOKEN="+tok.AccessToken, "INSTANCE="+instance)
	assert.Equal(t, "401", status)

	assert.Equal(t, exitOK, stop())
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "the temporary folder with the keys is removed on exit: %v", err)
}

func TestFakeOrgWrongUsagePrintsUsage(t *testing.T) {
	for _, args := range [][]string{{"fake-org", "extra"}, {"fake-org", "--api-limit", "0"}, {"fake-org", "--session-lifetime", "-1s"}, {"fake-org", "--nope"}} {
		r := sfmtls(t, nil, nil, args...)
		assert.Equal(t, exitUsage, r.code, args)
		assert.Contains(t, r.stderr, "usage: sfmtls fake-org", args)
	}
	seed := filepath.Join(t.TempDir(), "seed.json")
	require.NoError(t, os.WriteFile(seed, []byte(`{"records": [{"object": "Acount", "records": [{"Name": "typo"}]}]}`), 0o600))
	r := sfmtls(t, nil, nil, "fake-org", "--seed", seed)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "NOT_FOUND", "a seed the org refuses says why")
}

// A reused --dir (--force) whose secret files were left readable gets them back at 0600.
func TestFakeOrgRewritesSecretsInAReusedDirAt0600(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"keystore-password", "access-token"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o644))
	}
	_, stop := fakeOrg(t, "--dir", dir, "--force")
	for _, name := range []string{"keystore-password", "access-token"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}
	assert.Equal(t, exitOK, stop())
}
