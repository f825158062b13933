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
// Check opens its own connection and asks for a new token each time: for a
// probe that runs often, set Config.TokenSource to the service's own
// *transport.Transport (or client's) so the token step reuses its cached token.
//
// The identities come from Config.MTLS and Config.JWT, or from loader functions
// (Config.LoadMTLS, LoadJWT) that Check calls in its first two steps, so that a
// keystore that cannot be opened fails its own step. Where the files are and
// how their passwords are found stays with the caller; name the files in
// MTLSSource and JWTSource to have them in the report.
package diag

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

// DefaultTimeout bounds each network step when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config is what Check connects with: the client's configuration, and where
// the identities came from.
type Config struct {
	client.Config
	// MTLSSource and JWTSource name where the identities were loaded from (a
	// keystore path), for the report; empty leaves them out.
	MTLSSource, JWTSource string
	// LoadMTLS and LoadJWT, when set, load the identities at the start of their
	// steps and replace MTLS and JWT; their errors fail those steps.
	LoadMTLS, LoadJWT func() (*keystore.Identity, error)
	// Timeout bounds each network step; 0 means DefaultTimeout.
	Timeout time.Duration
}

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

// StepError is a check that failed at Step.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("diag: %s failed: %v", e.Step, e.Err) }

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// ServeHTTP answers with the report as JSON: 200 when it passed, 503 when not.
func (r *Report) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !r.OK {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(r)
}

// run records the steps as they pass, and marks the rest skipped after a failure.
type run struct{ r Report }

func (x *run) ok(name, detail string, warnings []string) {
	x.r.Steps = append(x.r.Steps, Step{Name: name, Status: StatusOK, Detail: detail, Warnings: warnings})
}

func (x *run) fail(name string, err error, warnings []string) Report {
	ex := Explain(err)
	x.r.Steps = append(x.r.Steps, Step{Name: name, Status: StatusFailed, Warnings: warnings,
		Err: err, Error: err.Error(), Cause: ex.Cause, Fix: ex.Fix})
	for _, n := range stepNames[len(x.r.Steps):] {
		x.r.Steps = append(x.r.Steps, Step{Name: n, Status: StatusSkipped})
	}
	return x.r
}

// ErrGenericLoginHost: the login URL is login.salesforce.com or
// test.salesforce.com, which do not serve mutual TLS.
var ErrGenericLoginHost = errors.New("mutual TLS needs the org's My Domain login URL, not login.salesforce.com or test.salesforce.com")

// checkLoginURL finds the login URL mistakes that have a fix of their own
// before the transport refuses them with a configuration error.
func checkLoginURL(loginURL string) error {
	u, err := url.Parse(loginURL)
	if err != nil || u.Host == "" {
		return nil // the transport says what is wrong with it
	}
	if h := strings.ToLower(u.Hostname()); h == "login.salesforce.com" || h == "test.salesforce.com" {
		return fmt.Errorf("%w (LoginURL %q)", ErrGenericLoginHost, loginURL)
	}
	return nil
}

// ErrNoLoginURL: a TokenSource without LoginURL leaves the handshake step no
// login host to probe, and the TokenSource gave no token naming the instance.
var ErrNoLoginURL = errors.New("no LoginURL to probe, and the TokenSource gave no token to take the instance URL from")

// ErrJWTKeyNotRSA: the JWT identity's key cannot sign RS256, the only
// algorithm Salesforce's JWT bearer flow accepts.
var ErrJWTKeyNotRSA = errors.New("the JWT signing key is not RSA")

// Check runs the connection steps with cfg and reports each. It stops at the
// first failure; the steps after it are reported as skipped. It never returns
// an error: a failure is in the report, with its cause and fix.
func Check(ctx context.Context, cfg Config) Report {
	x := &run{}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	now := time.Now()

	if cfg.LoadMTLS != nil {
		id, err := cfg.LoadMTLS()
		if err != nil {
			return x.fail(StepMTLS, err, nil)
		}
		cfg.MTLS = id
	}
	warn, err := checkIdentity(cfg.MTLS, true, now)
	if err != nil {
		return x.fail(StepMTLS, err, warn)
	}
	x.ok(StepMTLS, describe(cfg.MTLSSource, cfg.MTLS), warn)

	if cfg.LoadJWT != nil {
		id, err := cfg.LoadJWT()
		if err != nil {
			return x.fail(StepJWT, err, nil)
		}
		cfg.JWT = id
	}
	if cfg.TokenSource != nil {
		x.ok(StepJWT, fmt.Sprintf("tokens come from the TokenSource (%T)", cfg.TokenSource), nil)
	} else {
		jwtID, jwtSource := cfg.JWT, cfg.JWTSource
		if jwtID == nil {
			jwtID, jwtSource = cfg.MTLS, cfg.MTLSSource
		}
		warn, err = checkIdentity(jwtID, false, now)
		if err == nil {
			if _, isRSA := jwtID.Leaf().PublicKey.(*rsa.PublicKey); !isRSA {
				err = ErrJWTKeyNotRSA
			}
		}
		if err != nil {
			return x.fail(StepJWT, err, warn)
		}
		if cfg.JWT == nil {
			x.ok(StepJWT, "the mTLS keystore signs the JWT too", warn)
		} else {
			x.ok(StepJWT, describe(jwtSource, jwtID), warn)
		}
	}

	if err := checkLoginURL(cfg.LoginURL); err != nil {
		return x.fail(StepHandshake, err, nil)
	}
	conn, err := connect(cfg.Config)
	if err != nil {
		return x.fail(StepHandshake, err, nil)
	}
	defer conn.close()
	pool, err := roots(cfg.Config)
	if err != nil {
		return x.fail(StepHandshake, err, nil)
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	detail, err := conn.handshake(hctx, cfg.MTLS, pool)
	cancel()
	if err != nil {
		return x.fail(StepHandshake, err, nil)
	}
	x.ok(StepHandshake, detail, nil)

	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tok, err := conn.token(tctx)
	if err != nil {
		return x.fail(StepToken, err, nil)
	}
	x.ok(StepToken, fmt.Sprintf("instance %s, scope %q", tok.InstanceURL, tok.Scope), nil)

	rctx, cancel := context.WithTimeout(ctx, timeout)
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
	prefix := ""
	if source != "" {
		prefix = source + " "
	}
	return fmt.Sprintf("%s(%s%s): %s, expires %s, chain of %d", prefix, id.SourceFormat(), alias,
		id.Leaf().Subject.String(), id.Leaf().NotAfter.UTC().Format("2006-01-02"), len(id.Chain()))
}
