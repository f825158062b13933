// Package diag checks a Salesforce connection step by step and explains what
// went wrong: the Test Connection of MuleSoft's connector, as a library.
//
// Check runs the steps in the order a connection needs them (the two
// identities, the TLS handshake with the client certificate, the JWT bearer
// token, a REST call) and stops at the first that fails. Its Report marshals to
// JSON, so a service can serve it from a readiness endpoint. Explain turns any
// error of this SDK (keystore, TLS, OAuth, REST, network) into a cause and a
// fix; it is the one classifier that Check, the sfmtls tool and services share.
//
// Check takes the client.Config a service runs with; CheckEnv reads it from the
// SF_* variables first (client.ConfigFromEnv), so that a keystore that cannot
// be opened fails its own step, and can hand over each step as it ends, for a
// tool that shows them as they run. Configuration problems are the ones client.New
// finds, each reported at the step it belongs to. Check opens its own
// connection and asks for a new token each time: for a probe that runs often,
// set Config.TokenSource to the service's own transport so the token step
// reuses its cached token.
package diag

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/keystore"
)

// Step names, in the order Check runs them.
const (
	StepMTLS      = "mTLS keystore"
	StepJWT       = "JWT keystore"
	StepHandshake = "TLS handshake"
	StepToken     = "JWT bearer token"
	StepREST      = "REST API"
)

// stepNames lists every step Check reports, in order.
var stepNames = [...]string{StepMTLS, StepJWT, StepHandshake, StepToken, StepREST}

// stepTimeout bounds each network step; the caller's ctx bounds them all.
const stepTimeout = 30 * time.Second

// Status is how a step ended.
type Status string

// Step outcomes. Steps after a failed one are StatusSkipped.
const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped"
)

// Step is one step of a check.
type Step struct {
	Name     string   `json:"name"`
	Status   Status   `json:"status"`
	Detail   string   `json:"detail,omitempty"`   // what was found, on success
	Warnings []string `json:"warnings,omitempty"` // problems that do not stop the connection yet
	Err      error    `json:"-"`                  // the failure, for errors.Is and errors.As
	Error    string   `json:"error,omitempty"`    // Err's text
	Cause    string   `json:"cause,omitempty"`    // Explain(Err).Cause
	Fix      string   `json:"fix,omitempty"`      // Explain(Err).Fix
}

// Report is the outcome of Check: every step, in order.
type Report struct {
	OK    bool   `json:"ok"`
	Steps []Step `json:"steps"`
}

// Failed returns the step that failed, or nil.
func (r *Report) Failed() *Step {
	for i := range r.Steps {
		if r.Steps[i].Status == StatusFailed {
			return &r.Steps[i]
		}
	}
	return nil
}

// Err returns the failed step's error, naming the step, or nil when the check passed.
func (r *Report) Err() error {
	if s := r.Failed(); s != nil {
		return &StepError{Step: s.Name, Err: s.Err}
	}
	return nil
}

// ServeHTTP answers with the report as JSON: 200 when it passed, 503 when not.
func (r *Report) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !r.OK {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(r)
}

// run records the steps as they pass, and marks the rest skipped after a
// failure; each, when set, sees every step as it is recorded.
type run struct {
	r    Report
	each func(Step)
}

func (x *run) add(s Step) {
	x.r.Steps = append(x.r.Steps, s)
	if x.each != nil {
		x.each(s)
	}
}

func (x *run) ok(name, detail string, warnings []string) {
	x.add(Step{Name: name, Status: StatusOK, Detail: detail, Warnings: warnings})
}

func (x *run) fail(name string, err error, warnings []string) Report {
	// A configuration problem of a later step fails it before any network
	// step runs: the steps in between are reported as not run.
	for _, n := range stepNames[len(x.r.Steps):] {
		if n == name {
			break
		}
		x.add(Step{Name: n, Status: StatusSkipped})
	}
	ex := Explain(err)
	x.add(Step{Name: name, Status: StatusFailed, Warnings: warnings,
		Err: err, Error: err.Error(), Cause: ex.Cause, Fix: ex.Fix})
	for _, n := range stepNames[len(x.r.Steps):] {
		x.add(Step{Name: n, Status: StatusSkipped})
	}
	return x.r
}

// stepOf is the step at which a problem with a Config field shows.
func stepOf(field string) string {
	switch field {
	case "MTLS":
		return StepMTLS
	case "JWT":
		return StepJWT
	case "ConsumerKey", "Username", "Audience", "TokenSource", "LoginRetry":
		return StepToken
	case "APIVersion", "MaxResponseBytes", "CallRetry", "UsageCap", "RetryBudget":
		return StepREST
	}
	return StepHandshake
}

// nameSettings fills in the variable of each configuration problem in err
// that names none, from settings (field → SF_* variable).
func nameSettings(err error, settings map[string]string) {
	if err == nil || settings == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			nameSettings(e, settings)
		}
		return
	}
	var ce *client.ConfigError
	if errors.As(err, &ce) && ce.Setting == "" {
		ce.Setting = settings[ce.Field]
	}
}

// configProblems sorts configuration errors by the step they belong to,
// keeping their order within a step. A field that could not be read (loadErr)
// is reported as that, not again as missing when New checks it.
func configProblems(loadErr, newErr error) map[string][]error {
	out := map[string][]error{}
	unread := map[string]bool{}
	var walk func(err error, fromNew bool)
	walk = func(err error, fromNew bool) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e, fromNew)
			}
			return
		}
		step := StepHandshake
		var ce *client.ConfigError
		if errors.As(err, &ce) {
			if fromNew && unread[ce.Field] {
				return
			}
			unread[ce.Field] = !fromNew
			step = stepOf(ce.Field)
		}
		out[step] = append(out[step], err)
	}
	if loadErr != nil {
		walk(loadErr, false)
	}
	if newErr != nil {
		walk(newErr, true)
	}
	return out
}

// Check runs the connection steps with cfg and reports each. It stops at the
// first failure; the steps after it are reported as skipped. It never returns
// an error: a failure is in the report, with its cause and fix.
func Check(ctx context.Context, cfg client.Config) Report {
	return check(ctx, cfg, nil, "", "", nil, nil)
}

// CheckEnv reads the Config from the SF_* variables through getenv (nil means
// os.Getenv) with client.ConfigFromEnv and checks it as Check does; a setting
// that cannot be read fails the step it belongs to, and the report names the
// keystore files. each, when not nil, gets every step as soon as it ends,
// skipped ones included, in order and on the calling goroutine, so that a tool
// can show the steps as they run rather than after a step has timed out; the
// Report holds the same steps.
func CheckEnv(ctx context.Context, getenv func(string) string, each func(Step)) Report {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg, err := client.ConfigFromEnv(getenv)
	jwtSource := getenv("SF_JWT_KEYSTORE")
	return check(ctx, cfg, err, getenv("SF_MTLS_KEYSTORE"), jwtSource, each, envSettings)
}

// envSettings names the SF_* variable client.ConfigFromEnv reads each Config
// field from, so that a problem client.New finds in a Config read from the
// environment names the variable to change.
var envSettings = map[string]string{
	"LoginURL": "SF_LOGIN_URL", "ConsumerKey": "SF_CONSUMER_KEY", "Username": "SF_USERNAME",
	"Audience": "SF_AUDIENCE", "APIVersion": "SF_API_VERSION", "Port": "SF_MTLS_PORT",
	"InstanceHosts": "SF_INSTANCE_HOSTS", "MTLS": "SF_MTLS_KEYSTORE", "JWT": "SF_JWT_KEYSTORE",
	"RootCAs": "SF_CA_FILE",
}

func check(ctx context.Context, cfg client.Config, loadErr error, mtlsSource, jwtSource string, each func(Step),
	settings map[string]string) Report {
	x := &run{each: each}
	now := time.Now()
	c, err := client.New(cfg)
	if c != nil {
		defer c.Close()
	}
	nameSettings(err, settings)
	problems := configProblems(loadErr, err)
	failed := func(step string, warn []string) (Report, bool) {
		if p := problems[step]; len(p) > 0 {
			return x.fail(step, errors.Join(p...), warn), true
		}
		return Report{}, false
	}

	var warn []string
	if cfg.MTLS != nil {
		warn = nilIfEmpty(cfg.MTLS.Warnings(now))
	}
	if r, ok := failed(StepMTLS, warn); ok {
		return r
	}
	x.ok(StepMTLS, describe(mtlsSource, cfg.MTLS), warn)

	switch {
	case cfg.TokenSource != nil:
		if r, ok := failed(StepJWT, nil); ok {
			return r
		}
		x.ok(StepJWT, fmt.Sprintf("tokens come from the TokenSource (%T)", cfg.TokenSource), nil)
	case cfg.JWT == nil:
		if r, ok := failed(StepJWT, nil); ok {
			return r
		}
		x.ok(StepJWT, "the mTLS keystore signs the JWT too", nil)
	default:
		warn = jwtWarnings(cfg.JWT, now)
		if r, ok := failed(StepJWT, warn); ok {
			return r
		}
		x.ok(StepJWT, describe(jwtSource, cfg.JWT), warn)
	}

	for _, step := range stepNames[2:] {
		if r, ok := failed(step, nil); ok {
			return r
		}
	}
	if c == nil { // every problem of New was placed at a step above
		return x.fail(StepHandshake, err, nil)
	}
	conn := &conn{c: c}

	hctx, cancel := context.WithTimeout(ctx, stepTimeout)
	detail, err := conn.handshake(hctx, cfg.MTLS, cfg.RootCAs)
	cancel()
	if err != nil {
		return x.fail(StepHandshake, err, nil)
	}
	x.ok(StepHandshake, detail, nil)

	tctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	tok, err := conn.token(tctx)
	if err != nil {
		return x.fail(StepToken, err, nil)
	}
	x.ok(StepToken, fmt.Sprintf("instance %s, scope %q", tok.InstanceURL, tok.Scope), nil)

	rctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	detail, err = conn.rest(rctx)
	if err != nil {
		return x.fail(StepREST, err, nil)
	}
	x.ok(StepREST, detail, nil)
	x.r.OK = true
	return x.r
}

// describe summarises an identity for a report: where it came from, its
// format and alias, subject, expiry and chain length. It shows no key material.
func describe(source string, id *keystore.Identity) string {
	alias := ""
	if id.Alias() != "" {
		alias = fmt.Sprintf(", alias %q", id.Alias())
	}
	origin := ""
	if f := id.SourceFormat(); f != keystore.FormatUnknown {
		origin = "(" + f.String() + alias + "): "
	}
	if source != "" {
		origin = source + " " + origin
	}
	return fmt.Sprintf("%s%s, expires %s, chain of %d", origin,
		id.Leaf().Subject.String(), id.Leaf().NotAfter.UTC().Format("2006-01-02"), len(id.Chain()))
}
