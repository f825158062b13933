package main

import (
	"bufio"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/settings"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/transport"
)

// checkTimeout bounds each network step of check.
const checkTimeout = 30 * time.Second

// stepper prints check's numbered steps.
type stepper struct {
	w     io.Writer
	n, of int
}

func (s *stepper) ok(name, detail string, warnings ...string) {
	s.n++
	fmt.Fprintf(s.w, "[%d/%d] %-18s ok      %s\n", s.n, s.of, name, detail)
	for _, warn := range warnings {
		fmt.Fprintf(s.w, "      warning: %s\n", warn)
	}
}

func (s *stepper) fail(name string, err error, fix string) int {
	s.n++
	cause := err.Error()
	if fix != "" { // errors carry their hint; it gets a line of its own here
		cause = strings.Replace(strings.Replace(cause, " ("+fix+")", "", 1), ": "+fix, "", 1)
	}
	fmt.Fprintf(s.w, "[%d/%d] %-18s FAILED  %s\n", s.n, s.of, name, cause)
	if fix != "" {
		fmt.Fprintf(s.w, "      fix: %s\n", fix)
	}
	fmt.Fprintf(s.w, "Connection FAILED at step %d (%s).\n", s.n, name)
	return exitFailure
}

func newCheckCommand(e *env) *cobra.Command {
	var s *settings.Settings
	cmd := &cobra.Command{
		Use:   "check",
		Short: "test the connection step by step: keystores, TLS handshake, JWT token, REST API",
		Long: `Test the connection as the SDK makes it, step by step: open the mTLS and JWT
keystores, the TLS handshake on the mutual TLS port with the client
certificate, the JWT bearer token, and a REST API call. The first failed step
is printed with its cause and a fix: line naming what to change; exit status 1.
` + connectionHelp,
		Args: noArgs,
		RunE: body(func(*cobra.Command, []string) error {
			if err := needSettings(s); err != nil {
				return err
			}
			if code := runCheck(s, e); code != exitOK {
				return exitCode(code)
			}
			return nil
		}),
	}
	s = connectionFlags(cmd, e)
	return cmd
}

// runCheck prints each step and returns the exit status.
func runCheck(s *settings.Settings, e *env) int {
	st := &stepper{w: e.stdout, of: 5}
	fmt.Fprintf(e.stdout, "sfmtls check: %s as %s\n", s.LoginURL, s.Username)

	mtls, warnings, err := loadForCheck(&s.MTLS, e)
	if err != nil {
		return st.fail("mTLS keystore", err, keystoreFix(err))
	}
	st.ok("mTLS keystore", describeIdentity(s.MTLS.Path, mtls), warnings...)
	jwtID := mtls
	if s.JWT.Path != "" {
		jwtID, warnings, err = loadForCheck(&s.JWT, e)
		if err != nil {
			return st.fail("JWT keystore", err, keystoreFix(err))
		}
		// The JWT certificate may be self-signed: only the mutual TLS one may not.
		st.ok("JWT keystore", describeIdentity(s.JWT.Path, jwtID), dropWarning(warnings, keystore.WarnSelfSigned, keystore.WarnNoClientAuth)...)
	} else {
		st.ok("JWT keystore", "the mTLS keystore signs the JWT too")
	}
	if _, isRSA := jwtID.Leaf().PublicKey.(*rsa.PublicKey); !isRSA {
		return st.fail("JWT keystore", errors.New("the JWT key is not RSA"), "Salesforce's JWT bearer flow signs with RS256: use an RSA key")
	}

	extra, err := s.ExtraRoots()
	if err != nil {
		return st.fail("TLS handshake", err, "SF_CA_FILE must name a PEM file of certificates")
	}
	roots, err := transport.Roots(nil, extra...)
	if err != nil {
		return st.fail("TLS handshake", err, "")
	}
	// client.New checks the configuration (a generic login host, a JWT key that
	// cannot sign RS256) before anything goes on the wire.
	c, err := client.New(client.Config{Config: transport.Config{
		LoginURL: s.LoginURL, Audience: s.Audience, ConsumerKey: s.ConsumerKey, Username: s.Username,
		MTLS: mtls, JWT: jwtID, ExtraRoots: extra, Port: s.MTLSPort,
	}, APIVersion: s.APIVersion})
	if err != nil {
		return st.fail("TLS handshake", err, "")
	}
	defer c.Close()
	tr := c.Transport()
	detail, err := handshake(e.ctx, tr.TokenURL(), mtls, roots)
	if err != nil {
		return st.fail("TLS handshake", err, tlsFix(err))
	}
	st.ok("TLS handshake", detail)

	ctx, cancel := context.WithTimeout(e.ctx, checkTimeout)
	defer cancel()
	tok, err := tr.Token(ctx)
	if err != nil {
		return st.fail("JWT bearer token", err, tokenFix(err))
	}
	st.ok("JWT bearer token", fmt.Sprintf("instance %s, scope %q", tok.InstanceURL, tok.Scope))

	v, err := c.APIVersion(ctx)
	path := "/services/data/"
	if err == nil {
		path = "/services/data/v" + v + "/"
		var resources json.RawMessage
		err = c.Do(ctx, http.MethodGet, path, nil, &resources)
	}
	if err != nil {
		fix := ""
		var apiErr *client.APIError
		if errors.As(err, &apiErr) {
			fix = apiErr.Fix()
		}
		return st.fail("REST API", err, fix)
	}
	base, _ := tr.InstanceURL(ctx)
	st.ok("REST API", fmt.Sprintf("GET %s%s -> 200", base, path))
	fmt.Fprintln(e.stdout, "Connection OK.")
	return exitOK
}

// loadForCheck loads a store and returns the warnings inspect would give.
func loadForCheck(st *settings.Store, e *env) (*keystore.Identity, []string, error) {
	id, err := st.Load(e.getenv)
	if err != nil {
		return nil, nil, err
	}
	return id, id.Warnings(time.Now()), nil
}

func dropWarning(warnings []string, drop ...string) []string {
	var out []string
	for _, w := range warnings {
		keep := true
		for _, d := range drop {
			keep = keep && w != d
		}
		if keep {
			out = append(out, w)
		}
	}
	return out
}

func describeIdentity(path string, id *keystore.Identity) string {
	alias := ""
	if id.Alias() != "" {
		alias = fmt.Sprintf(", alias %q", id.Alias())
	}
	return fmt.Sprintf("%s (%s%s): %s, expires %s, chain of %d",
		path, id.SourceFormat(), alias, id.Leaf().Subject.String(), id.Leaf().NotAfter.UTC().Format("2006-01-02"), len(id.Chain()))
}

func keystoreFix(err error) string {
	var kerr *keystore.Error
	if errors.As(err, &kerr) && kerr.Hint != "" {
		return kerr.Hint
	}
	return "run sfmtls inspect on the keystore"
}

// handshake connects to the token host with the client certificate and reads an
// HTTP answer. It tries TLS 1.2 first: there the server's verdict on the client
// certificate is part of the handshake, while under TLS 1.3 it comes after the
// client has finished, as an alert, a reset or a broken pipe, whichever the
// timing gives. Only a server without TLS 1.2 is probed with TLS 1.3.
func handshake(ctx context.Context, tokenURL string, id *keystore.Identity, roots *x509.CertPool) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	u, _ := url.Parse(tokenURL)
	detail, err := probe(ctx, u, id, roots, tls.VersionTLS12)
	if alert, ok := remoteAlert(err); ok && strings.Contains(alert, "protocol version") {
		detail, err = probe(ctx, u, id, roots, tls.VersionTLS13)
	}
	return detail, err
}

// remoteAlert returns the text of a TLS alert the server sent. crypto/tls
// reports those as a net.OpError "remote error" around an unexported type, not
// as tls.AlertError (which is for alerts it sends).
func remoteAlert(err error) (string, bool) {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" && op.Err != nil {
		return op.Err.Error(), true
	}
	return "", false
}

// errRefusedAfterHandshake: under TLS 1.3 the server dropped the connection
// right after a handshake in which the client certificate was sent.
var errRefusedAfterHandshake = errors.New("the server closed the connection right after the TLS 1.3 handshake: bad certificate")

func isRemoteAlert(err error) bool {
	_, ok := remoteAlert(err)
	return ok
}

func probe(ctx context.Context, u *url.URL, id *keystore.Identity, roots *x509.CertPool, maxVersion uint16) (string, error) {
	cfg := transport.NewTLSConfig(func() *keystore.Identity { return id }, roots)
	cfg.MaxVersion = maxVersion
	cfg.NextProtos = []string{"http/1.1"}
	conn, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	tc := conn.(*tls.Conn)
	if deadline, ok := ctx.Deadline(); ok {
		_ = tc.SetDeadline(deadline)
	}
	_, werr := fmt.Fprintf(tc, "GET /services/data/ HTTP/1.1\r\nHost: %s\r\nUser-Agent: sfmtls-check\r\nConnection: close\r\n\r\n", u.Host)
	resp, rerr := http.ReadResponse(bufio.NewReader(tc), nil)
	if rerr != nil || werr != nil {
		switch {
		case isRemoteAlert(rerr):
			return "", rerr
		case tc.ConnectionState().Version == tls.VersionTLS13:
			return "", fmt.Errorf("%w (%v)", errRefusedAfterHandshake, errors.Join(werr, rerr))
		}
		return "", errors.Join(werr, rerr)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	st := tc.ConnectionState()
	return fmt.Sprintf("%s, %s, server %q, client certificate accepted", u.Host, tls.VersionName(st.Version), st.PeerCertificates[0].Subject.CommonName), nil
}

// tlsFix names the setup step behind a TLS failure.
func tlsFix(err error) string {
	var unknown x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	var host x509.HostnameError
	var opErr *net.OpError
	alert, remote := remoteAlert(err)
	switch {
	case remote && strings.Contains(alert, "protocol version"):
		return "the server and this client share no TLS version: Salesforce needs TLS 1.2 or later on both sides"
	case remote, errors.Is(err, errRefusedAfterHandshake):
		return "the server refused the client certificate: it must be signed by a CA Salesforce trusts (not self-signed), " +
			"be uploaded as Mutual Authentication Certificate, and its keystore must hold the intermediates (sfmtls inspect shows the chain)"
	case errors.As(err, &host):
		return "the server's certificate is for another name: use the My Domain URL exactly as Setup → My Domain shows it"
	case errors.As(err, &unknown), errors.As(err, &verify):
		return "the server's certificate is not trusted here: add its CA with SF_CA_FILE (a TLS-inspecting proxy needs its own CA there)"
	case strings.Contains(err.Error(), "client certificate"):
		return "renew the client certificate, upload it as Mutual Authentication Certificate, and replace the keystore"
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &opErr):
		return "the mutual TLS port is not reachable: Salesforce serves it on 8443; allow outbound 8443 through firewalls and proxies"
	}
	return ""
}

func tokenFix(err error) string {
	var oe *auth.OAuthError
	if errors.As(err, &oe) {
		return oe.Fix()
	}
	var re *auth.ResponseError
	if errors.As(err, &re) {
		return re.Fix()
	}
	return tlsFix(err)
}
