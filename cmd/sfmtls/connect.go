package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/cmd/sfmtls/internal/settings"
	"github.com/sfmtls/sfmtls/pubsub/pubsubtest"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// connect loads the settings' keystores and builds a client whose session
// comes from the token store (none for check, which tests the login itself):
// the transport's cache loads the stored token, replaces one Salesforce
// rejects or that cannot be read with one login, and saves the new one.
func connect(s *settings.Settings, ts *settings.TokenStore, e *env) (*client.Client, func(), error) {
	c, _, done, err := connectStore(s, ts, e)
	return c, done, err
}

// connectStore is connect that also returns the token store it opened (nil
// for none), where listen keeps its positions.
func connectStore(s *settings.Settings, ts *settings.TokenStore, e *env) (*client.Client, auth.Store, func(), error) {
	cfg, err := s.ClientConfig(e.getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	closeStore := func() {}
	if ts != nil {
		if cfg.Store, closeStore, err = ts.Open(e.getenv); err != nil {
			return nil, nil, nil, err
		}
		// A store that fails (Redis down, a file that cannot be written) costs
		// a login, not the run; say so.
		cfg.Logger = newLogger(e.stderr, slog.LevelWarn)
	}
	c, err := client.New(cfg)
	if err != nil {
		closeStore()
		return nil, nil, nil, err
	}
	return c, cfg.Store, func() { _ = c.Close(); closeStore() }, nil
}

// connectionFlags registers the connection settings (each flag defaulting to
// its SF_ variable) on cmd, for check, token and query.
func connectionFlags(cmd *cobra.Command, e *env) *settings.Settings {
	s := &settings.Settings{}
	s.Register(cmd.Flags(), e.getenv)
	return s
}

// needSettings is wrong usage when a connection setting is missing or the
// token store names none.
func needSettings(s *settings.Settings, ts ...*settings.TokenStore) error {
	if err := s.Check(); err != nil {
		return usagef("%v", err)
	}
	for _, t := range ts {
		if err := t.Check(); err != nil {
			return usagef("%v", err)
		}
	}
	return nil
}

// tokenStoreFlags registers --token-store and --no-token-cache.
func tokenStoreFlags(cmd *cobra.Command, e *env) *settings.TokenStore {
	ts := &settings.TokenStore{Warn: func(w string) { warn(e, []string{w}) }}
	ts.Register(cmd.Flags(), e.getenv)
	_ = cmd.RegisterFlagCompletionFunc("token-store", completeWords("file", "none", "redis://", "rediss://"))
	return ts
}

const connectionHelp = `
Every connection flag --x-y has the environment variable SF_X_Y; the flag wins.
Passwords come from SF_MTLS_KEYSTORE_PASSWORD, SF_MTLS_KEY_PASSWORD,
SF_JWT_KEYSTORE_PASSWORD, SF_JWT_KEY_PASSWORD or the --…-password-file flags,
never from a flag's value. A keystore, key or password file other users can
write is refused, one they can read is used with a warning (chmod 600 FILE).`

const sessionHelp = `
The session is kept across runs (the JWT bearer flow has no refresh token, and
Salesforce allows a user 3,600 logins an hour): SF_TOKEN_STORE or --token-store
is file (default: one 0600 file per login URL, consumer key and username under
the user's cache directory, e.g. ~/.cache/sfmtls/tokens), file:DIR, none, or a
Redis URL (redis://[user:password@]host:port/db, rediss:// for TLS) shared with
services using redisstore; SF_TOKEN_ENCRYPTION_KEY or
--token-encryption-key-file gives the AES key of the token kept in Redis.
--no-token-cache logs in afresh. A stored token Salesforce rejects, or one that
cannot be read, is replaced by a new login; a store that is down costs a login
and a warning, not the run.`

func newTokenCommand(e *env) *cobra.Command {
	var show bool
	var s *settings.Settings
	var ts *settings.TokenStore
	cmd := &cobra.Command{
		Use:   "token",
		Short: "print the token response as JSON (the access token redacted unless --show-token)",
		Long:  "Log in with the JWT bearer flow over mutual TLS and print the token response as JSON,\nthe access token redacted unless --show-token.\n" + connectionHelp + "\n" + sessionHelp,
		Args:  noArgs,
		RunE: body(func(*cobra.Command, []string) error {
			if err := needSettings(s, ts); err != nil {
				return err
			}
			c, done, err := connect(s, ts, e)
			if err != nil {
				return err
			}
			defer done()
			ctx, cancel := context.WithTimeout(e.ctx, checkTimeout)
			defer cancel()
			tok, err := c.Token(ctx)
			if err != nil {
				return err
			}
			access := "[REDACTED]"
			if show {
				access = string(tok.AccessToken)
			}
			out := map[string]string{
				"access_token": access, "instance_url": tok.InstanceURL, "id": tok.ID, "scope": tok.Scope,
				"token_type": tok.TokenType, "issued_at": tok.IssuedAt.UTC().Format(time.RFC3339),
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}),
	}
	cmd.Flags().BoolVar(&show, "show-token", false, "print the access token instead of [REDACTED]")
	s = connectionFlags(cmd, e)
	ts = tokenStoreFlags(cmd, e)
	return cmd
}

func newQueryCommand(e *env) *cobra.Command {
	var s *settings.Settings
	var ts *settings.TokenStore
	var format string
	cmd := &cobra.Command{
		Use:   "query SOQL",
		Short: "run a SOQL query and print the records (JSON lines, CSV or a table), all pages",
		Long: `Run a SOQL query and print the records, following every page: -o json (the
default) prints one JSON object a line as Salesforce sends it, -o csv a header
and a row a record, -o table aligned columns. In csv and table a lookup's fields
are columns such as Account.Name, a null is an empty cell, and a child query or
compound field is its JSON; they hold at most ` + fmt.Sprint(maxTableRecords) + ` records (use -o json or
sfmtls bulk query for more). SELECT COUNT() FROM … prints the count as
totalSize: Salesforce answers it with a size and no records.
` + connectionHelp + "\n" + sessionHelp,
		Example: `  sfmtls query 'SELECT Id, Name FROM Account ORDER BY Name'
  sfmtls query -o table 'SELECT Name, Account.Name FROM Contact'
  sfmtls query 'SELECT COUNT() FROM Account'`,
		Args: exactArgs(1, "one SOQL argument, e.g. 'SELECT Id, Name FROM Account'"),
		RunE: body(func(_ *cobra.Command, args []string) error {
			out, err := newRecordWriter(format, e.stdout)
			if err != nil {
				return err
			}
			if err := needSettings(s, ts); err != nil {
				return err
			}
			c, done, err := connect(s, ts, e)
			if err != nil {
				return err
			}
			defer done()
			if countQuery(args[0]) {
				n, err := queryCount(e.ctx, c, args[0])
				if err != nil {
					return err
				}
				if err := out.write(json.RawMessage(fmt.Sprintf(`{"totalSize":%d}`, n))); err != nil {
					return err
				}
				return out.flush()
			}
			for rec, err := range client.Query[json.RawMessage](e.ctx, c, args[0]) {
				if err != nil {
					return err
				}
				if err := out.write(rec); err != nil {
					return err
				}
			}
			return out.flush()
		}),
	}
	cmd.Flags().StringVarP(&format, "output", "o", "json", "print the records as `FORMAT`: json (one object a line), csv or table")
	_ = cmd.RegisterFlagCompletionFunc("output", completeWords("json", "csv", "table"))
	s = connectionFlags(cmd, e)
	ts = tokenStoreFlags(cmd, e)
	return cmd
}

// countSelect matches a query whose SELECT list is COUNT(), which "must be the
// only element in the SELECT list" (SOQL and SOSL Reference, "COUNT() and
// COUNT(fieldName)").
var countSelect = regexp.MustCompile(`(?is)^\s*select\s+count\s*\(\s*\)\s+from\s`)

// countQuery reports whether soql is SELECT COUNT() FROM …: Salesforce answers
// it with the count in the size field (totalSize over REST) and no records.
func countQuery(soql string) bool { return countSelect.MatchString(soql) }

// queryCount runs a COUNT() query and returns its totalSize. The answer is one
// page with no records, so no page follows it.
func queryCount(ctx context.Context, c *client.Client, soql string) (int64, error) {
	v, err := c.APIVersion(ctx)
	if err != nil {
		return 0, err
	}
	var page struct {
		TotalSize *int64 `json:"totalSize"`
	}
	if err := c.Do(ctx, http.MethodGet, "/services/data/v"+v+"/query?q="+url.QueryEscape(soql), nil, &page); err != nil {
		return 0, err
	}
	if page.TotalSize == nil {
		return 0, errors.New("query: the answer to a COUNT() query has no totalSize")
	}
	return *page.TotalSize, nil
}

// maxTableRecords bounds the records -o csv and -o table hold to find their
// columns; -o json streams.
const maxTableRecords = 50_000

// recordWriter prints query records in one output format.
type recordWriter interface {
	write(rec json.RawMessage) error
	flush() error
}

func newRecordWriter(format string, w io.Writer) (recordWriter, error) {
	switch format {
	case "json":
		return &jsonLines{enc: json.NewEncoder(w)}, nil
	case "csv", "table":
		return &tableWriter{w: w, csv: format == "csv", index: map[string]int{}}, nil
	}
	return nil, usagef("--output/-o must be json, csv or table, not %q", format)
}

type jsonLines struct{ enc *json.Encoder }

func (j *jsonLines) write(rec json.RawMessage) error { return j.enc.Encode(rec) }
func (j *jsonLines) flush() error                    { return nil }

// tableWriter holds the records, flattened, to print them with the union of
// their columns in the order they first appear.
type tableWriter struct {
	w       io.Writer
	csv     bool
	columns []string
	index   map[string]int
	rows    []map[string]string
}

// tooManyRecordsError is a query with more records than csv or table hold.
type tooManyRecordsError struct{ format string }

func (e *tooManyRecordsError) Error() string {
	return fmt.Sprintf("query: more than %d records for -o %s", maxTableRecords, e.format)
}

func (e *tooManyRecordsError) Fix() string {
	return "use -o json, which streams, or sfmtls bulk query for a large export"
}

func (t *tableWriter) write(rec json.RawMessage) error {
	if len(t.rows) == maxTableRecords {
		format := "table"
		if t.csv {
			format = "csv"
		}
		return &tooManyRecordsError{format: format}
	}
	row := map[string]string{}
	if err := flatten(rec, "", func(col, val string) {
		if _, ok := t.index[col]; !ok {
			t.index[col] = len(t.columns)
			t.columns = append(t.columns, col)
		}
		row[col] = val
	}); err != nil {
		return fmt.Errorf("query: a record that is not a JSON object: %w", err)
	}
	t.rows = append(t.rows, row)
	return nil
}

func (t *tableWriter) flush() error {
	// A lookup that is null in one record and has fields in another is a
	// column "Account" beside "Account.Name": keep the fields only.
	var cols []string
	for _, c := range t.columns {
		parent := false
		for _, d := range t.columns {
			if strings.HasPrefix(d, c+".") {
				parent = true
				break
			}
		}
		if !parent {
			cols = append(cols, c)
		}
	}
	if len(t.rows) == 0 {
		return nil
	}
	if t.csv {
		cw := csv.NewWriter(t.w)
		if err := cw.Write(cols); err != nil {
			return err
		}
		cells := make([]string, len(cols))
		for _, row := range t.rows {
			for i, c := range cols {
				cells[i] = row[c]
			}
			if err := cw.Write(cells); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				_, _ = io.WriteString(tw, "\t")
			}
			// Cells are one line each; a tab would split a column.
			_, _ = io.WriteString(tw, strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ").Replace(c))
		}
		_, _ = io.WriteString(tw, "\n")
	}
	line(cols)
	cells := make([]string, len(cols))
	for _, row := range t.rows {
		for i, c := range cols {
			cells[i] = row[c]
		}
		line(cells)
	}
	return tw.Flush()
}

// flatten calls cell for each field of a record in its order, without the
// attributes annotation: a lookup (an object with attributes) gives its own
// fields as prefix.Field, a null an empty cell, a string its text, a number or
// boolean its JSON, and anything else (a child query's result, a compound
// field) its compact JSON.
func flatten(raw json.RawMessage, prefix string, cell func(col, val string)) error {
	fields, err := objectFields(raw)
	if err != nil {
		return err
	}
	for _, f := range fields {
		if f.name == "attributes" {
			continue
		}
		col := prefix + f.name
		v := bytes.TrimSpace(f.value)
		switch {
		case bytes.Equal(v, []byte("null")):
			cell(col, "")
		case len(v) > 0 && v[0] == '"':
			var str string
			if err := json.Unmarshal(v, &str); err != nil {
				return err
			}
			cell(col, str)
		case len(v) > 0 && v[0] == '{' && isRecord(v):
			if err := flatten(v, col+".", cell); err != nil {
				return err
			}
		case len(v) > 0 && (v[0] == '{' || v[0] == '['):
			var b bytes.Buffer
			if err := json.Compact(&b, v); err != nil {
				return err
			}
			cell(col, b.String())
		default:
			cell(col, string(v))
		}
	}
	return nil
}

// isRecord reports whether an object is a record: it has attributes.
func isRecord(raw json.RawMessage) bool {
	fields, err := objectFields(raw)
	if err != nil {
		return false
	}
	for _, f := range fields {
		if f.name == "attributes" {
			return true
		}
	}
	return false
}

type field struct {
	name  string
	value json.RawMessage
}

// objectFields returns the fields of a JSON object in their order.
func objectFields(raw json.RawMessage) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not an object")
	}
	var out []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, field{name: name, value: v})
	}
	return out, nil
}

// newFakeOrgCommand runs a fake org for clients in any language: it writes the
// keystores, PEM files and a fresh access token into a directory (removed on
// exit unless --dir names it), and prints the SF_* settings, the instance URL
// with its port and a curl line that works.
func newFakeOrgCommand(e *env) *cobra.Command {
	var (
		dir, seedFile string
		envFile       string
		lifetime      time.Duration
		apiLimit      int64
		bulkStoreMax  int
		force         bool
	)
	cmd := &cobra.Command{
		Use:   "fake-org",
		Short: "run a fake org on loopback and print the SF_* settings to reach it",
		Long: `Run a fake Salesforce org on loopback (mutual TLS, JWT bearer flow, REST API,
SOQL) until Ctrl-C, and print the SF_* settings, PEM files and a curl line to
reach it from any language. --env-file writes the export lines to a file a
shell can source (mode 0600), once the org is ready, and removes it on exit:
  sfmtls fake-org --env-file fake.env &
  until [ -s fake.env ]; do sleep 1; done; . ./fake.env; sfmtls check
(eval "$(sfmtls fake-org)" waits for ever: fake-org runs until Ctrl-C.)`,
		Args: noArgs,
		RunE: body(func(*cobra.Command, []string) error {
			switch {
			case lifetime < 0:
				return usagef("--session-lifetime must not be negative")
			case apiLimit <= 0:
				return usagef("--api-limit must be at least 1")
			case bulkStoreMax <= 0:
				return usagef("--bulk-store-max must be at least 1")
			}
			return runFakeOrg(e, fakeOrgOptions{dir: dir, seedFile: seedFile, envFile: envFile,
				lifetime: lifetime, apiLimit: apiLimit, bulkStoreMax: bulkStoreMax, force: force})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "write the keystores here and keep them (default: a temporary `DIR`, removed on exit)")
	f.DurationVar(&lifetime, "session-lifetime", 0, "end sessions this `LONG` after login, e.g. 2m (default: never)")
	f.Int64Var(&apiLimit, "api-limit", salesforcetest.DefaultDailyAPIRequests, "daily API allocation (`N` calls); later calls get 403 REQUEST_LIMIT_EXCEEDED")
	f.StringVar(&seedFile, "seed", "", "JSON `FILE` of custom objects and records to load (default: three Accounts)")
	f.IntVar(&bulkStoreMax, "bulk-store-max", 50_000, "a Bulk API insert or upsert job of more than `N` rows fails (the fake keeps every record in memory)")
	f.StringVar(&envFile, "env-file", "", "also write the export SF_... lines to `FILE` (0600) for a shell to source; removed on exit")
	f.BoolVar(&force, "force", false, "replace the files of an earlier run in --dir, and an --env-file that exists")
	return cmd
}

// fakeOrgFiles are the files fake-org writes into its directory: the
// password and token files, and those of salesforcetest's PKI.WriteFiles.
var fakeOrgFiles = []string{
	"keystore-password", "access-token",
	"mtls.jks", "mulesoft.jks", "mtls.p12", "jwt.p12",
	"mtls-cert.pem", "mtls-key.pem", "jwt-cert.pem", "jwt-key.pem", "server-ca.pem", "pubsub-ca.pem",
}

// fakePubSubDemoTopic is the platform event topic fake-org's Pub/Sub API
// serves beside the Account change events.
const (
	fakePubSubDemoTopic  = "/event/Sfmtls_Demo__e"
	fakePubSubDemoSchema = `{"type":"record","name":"Sfmtls_Demo__e","namespace":"com.sforce.eventbus","fields":[` +
		`{"name":"CreatedDate","type":"long"},{"name":"CreatedById","type":"string"},` +
		`{"name":"Message__c","type":["null","string"],"default":null}]}`
)

// fakeOrgOptions are fake-org's flags.
type fakeOrgOptions struct {
	dir, seedFile, envFile string
	lifetime               time.Duration
	apiLimit               int64
	bulkStoreMax           int
	force                  bool
}

func runFakeOrg(e *env, o fakeOrgOptions) error {
	dir, seedFile, lifetime, apiLimit, force := o.dir, o.seedFile, o.lifetime, o.apiLimit, o.force
	var err error
	if o.envFile != "" {
		if err := refuseExisting(force, o.envFile); err != nil {
			return err
		}
	}
	if dir != "" {
		// A reused --dir: its files are replaced only with --force.
		paths := make([]string, len(fakeOrgFiles))
		for i, name := range fakeOrgFiles {
			paths[i] = filepath.Join(dir, name)
		}
		if err := refuseExisting(force, paths...); err != nil {
			return err
		}
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "sfmtls-fake-org-"); err != nil {
			return err
		}
		// The directory holds private keys, the password and a token.
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	org, err := salesforcetest.Start(salesforcetest.Config{
		SessionLifetime: lifetime, DailyAPIRequests: apiLimit,
		BulkStoreMaxRecords: o.bulkStoreMax,
	})
	if err != nil {
		return err
	}
	defer org.Close()
	if err := seedFakeOrg(org, seedFile); err != nil {
		return err
	}

	// The keystore password goes to a file: it is printed nowhere.
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	password := hex.EncodeToString(raw)
	pwFile := filepath.Join(dir, "keystore-password")
	// writeSecret makes the file 0600 even where one existed (a reused --dir).
	if err := writeSecret(pwFile, []byte(password+"\n"), true); err != nil {
		return err
	}
	files, err := org.PKI.WriteFiles(dir, password)
	if err != nil {
		return err
	}
	// The Pub/Sub API beside the org: Account change events and a demo topic.
	ps, err := pubsubtest.Start(org)
	if err != nil {
		return err
	}
	defer ps.Close()
	if err := ps.EnableChangeEvents(e.ctx, "Account"); err != nil {
		return err
	}
	ps.AddTopic(fakePubSubDemoTopic, fakePubSubDemoSchema)
	psCA := filepath.Join(dir, "pubsub-ca.pem")
	if err := writeSecret(psCA, ps.CertificatePEM(), true); err != nil {
		return err
	}
	tokenFile := filepath.Join(dir, "access-token")
	if err := writeFakeOrgToken(e.ctx, org, tokenFile); err != nil {
		return err
	}
	settings := [][2]string{
		{"SF_LOGIN_URL", org.URL}, {"SF_CONSUMER_KEY", org.ConsumerKey}, {"SF_USERNAME", org.Username},
		{"SF_MTLS_KEYSTORE", files.MTLSJKS}, {"SF_JWT_KEYSTORE", files.JWTJKS},
		{"SF_CA_FILE", files.ServerCA}, {"SF_MTLS_PORT", fmt.Sprint(org.Port)},
		{"SF_PUBSUB_ENDPOINT", ps.Addr}, {"SF_PUBSUB_CA_FILE", psCA},
	}
	if o.envFile != "" {
		// Written whole (atomically) once the org answers, so a script can
		// wait for it; removed on exit, when its port and files are gone.
		var env strings.Builder
		fmt.Fprintf(&env, "# sfmtls fake org at %s, while it runs; source this file: . %s\n", org.URL, sourceable(o.envFile))
		for _, kv := range settings {
			fmt.Fprintf(&env, "export %s=%s\n", kv[0], shellQuote(kv[1]))
		}
		for _, name := range []string{"SF_MTLS_KEYSTORE_PASSWORD", "SF_JWT_KEYSTORE_PASSWORD"} {
			fmt.Fprintf(&env, "export %s=\"$(cat %s)\"\n", name, shellQuote(pwFile))
		}
		if err := writeSecret(o.envFile, []byte(env.String()), force); err != nil {
			return err
		}
		defer os.Remove(o.envFile)
	}
	w := e.stdout
	fmt.Fprintf(w, "# sfmtls fake org at %s (stop with Ctrl-C); files in %s\n", org.URL, dir)
	// The port mapping (issue 21, no false passes): instance_url plays
	// Salesforce's, without the mutual TLS port.
	fmt.Fprintf(w, "# ports: %d plays 8443 (mutual TLS: login and API), %s plays 443 (no client certificate)\n",
		org.Port, portOf(org.StandardURL))
	fmt.Fprintf(w, "# token answers' instance_url is %s, port 443's stand-in: API calls there get 401 MUTUAL_AUTHENTICATION_FAILED, as on Salesforce\n",
		org.StandardURL)
	fmt.Fprintf(w, "# call the API on the instance host with port SF_MTLS_PORT (%d) where you would use :8443: %s/services/data/...\n",
		org.Port, org.URL)
	for _, kv := range settings {
		fmt.Fprintf(w, "export %s=%s\n", kv[0], kv[1])
	}
	fmt.Fprintf(w, "export SF_MTLS_KEYSTORE_PASSWORD=\"$(cat %s)\"\n", pwFile)
	fmt.Fprintf(w, "export SF_JWT_KEYSTORE_PASSWORD=\"$(cat %s)\"\n", pwFile)
	if o.envFile != "" {
		fmt.Fprintf(w, "# the export lines above are in %s: . %s\n", o.envFile, sourceable(o.envFile))
	}
	fmt.Fprintf(w, "# PEM for other clients: certificate %s, key %s; JWT key %s; consumer key above\n",
		files.MTLSCert, files.MTLSKey, files.JWTKey)
	fmt.Fprintf(w, "# a token from the JWT bearer flow is in %s; with curl:\n", tokenFile)
	fmt.Fprintf(w, "curl --silent --max-time 30 --cert %s --key %s --cacert %s -H \"Authorization: Bearer $(cat %s)\" %s\n",
		shellQuote(files.MTLSCert), shellQuote(files.MTLSKey), shellQuote(files.ServerCA), shellQuote(tokenFile),
		shellQuote(org.URL+"/services/data/v"+salesforcetest.APIVersion+"/limits"))
	fmt.Fprintf(w, "# the fake's own control endpoint (not Salesforce's): GET %s/__sfmtls/stats, POST %s/__sfmtls/expire-sessions\n",
		org.URL, org.URL)
	fmt.Fprintf(w, "# Pub/Sub API (gRPC) at %s, playing api.pubsub.salesforce.com:7443 (SF_PUBSUB_ENDPOINT; its CA in SF_PUBSUB_CA_FILE): topics /data/AccountChangeEvent, /data/ChangeEvents, %s\n",
		ps.Addr, fakePubSubDemoTopic)
	fmt.Fprintf(w, "# e.g. sfmtls listen --pubsub /data/AccountChangeEvent; sfmtls publish --pubsub %s --data '{\"Message__c\":\"hi\"}'\n",
		fakePubSubDemoTopic)
	fmt.Fprintf(w, "# then: sfmtls check; sfmtls query 'SELECT Id, Name FROM Account'\n")
	<-e.ctx.Done()
	return nil
}

// portOf returns the port of a URL the fake org made.
func portOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "?"
	}
	return p.Port()
}

// seedFakeOrg loads the seed file, or the three default Accounts.
func seedFakeOrg(org *salesforcetest.Org, path string) error {
	if path == "" {
		for _, a := range []map[string]any{
			{"Name": "Acme", "Industry": "Energy"},
			{"Name": "Globex", "Industry": "Manufacturing"},
			{"Name": "Initech", "Industry": "Technology"},
		} {
			if _, err := org.Data().Create("Account", a); err != nil {
				return err
			}
		}
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return org.Setup().LoadSeed(f)
}

// writeFakeOrgToken logs in with the org's own JWT identity, as any client
// would, and writes the access token to path (0600) for curl.
func writeFakeOrgToken(ctx context.Context, org *salesforcetest.Org, path string) error {
	ts, err := auth.NewJWTBearer(auth.JWTBearerConfig{
		LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		Signer: org.PKI.JWTIdentity.Signer(), HTTPClient: org.HTTPClient(nil),
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	tok, err := ts.Token(ctx)
	if err != nil {
		return err
	}
	return writeSecret(path, []byte(string(tok.AccessToken)), true)
}

// sourceable is path quoted for the shell's "." command, which looks a name
// without a slash up in PATH.
func sourceable(path string) string {
	if !strings.Contains(path, "/") {
		path = "./" + path
	}
	return shellQuote(path)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
