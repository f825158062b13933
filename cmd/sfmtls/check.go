package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/cmd/sfmtls/internal/settings"
	"github.com/sfmtls/sfmtls/diag"
	"github.com/sfmtls/sfmtls/keystore"
	"github.com/sfmtls/sfmtls/transport"
)

// checkTimeout bounds each network step of check, and token's request.
const checkTimeout = 30 * time.Second

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

// runCheck is the Test Connection: the settings become a diag.Config, whose
// loaders open the keystores as the first two steps, and the report is printed.
func runCheck(s *settings.Settings, e *env) int {
	extra, err := s.ExtraRoots()
	if err != nil {
		fmt.Fprintf(e.stderr, "sfmtls check: %v\n  fix: --ca-file/SF_CA_FILE must name a readable PEM file of CA certificates\n", err)
		return exitFailure
	}
	cfg := diag.Config{
		Config: client.Config{Config: transport.Config{
			LoginURL: s.LoginURL, Audience: s.Audience, ConsumerKey: s.ConsumerKey, Username: s.Username,
			ExtraRoots: extra, Port: s.MTLSPort, InstanceHosts: s.InstanceHosts,
		}, APIVersion: s.APIVersion},
		MTLSSource: s.MTLS.Path,
		LoadMTLS:   func() (*keystore.Identity, error) { return s.MTLS.Load(e.getenv) },
		Timeout:    checkTimeout,
	}
	if s.JWT.Path != "" {
		cfg.JWTSource = s.JWT.Path
		cfg.LoadJWT = func() (*keystore.Identity, error) { return s.JWT.Load(e.getenv) }
	}
	fmt.Fprintf(e.stdout, "sfmtls check: %s as %s\n", s.LoginURL, s.Username)
	r := diag.Check(e.ctx, cfg)
	if f := r.Failed(); f != nil {
		if fix := passwordFileFix(f.Err, s); fix != "" {
			f.Fix = fix
		}
		if fix := noPasswordFix(f.Err, s); fix != "" {
			f.Fix = fix
		}
	}
	printCheck(e.stdout, &r)
	if !r.OK {
		return exitFailure
	}
	return exitOK
}

// passwordFileFix names the flag and the variable when a password file named
// by a flag cannot be read: diag knows files, not this tool's settings.
func passwordFileFix(err error, s *settings.Settings) string {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return ""
	}
	for _, st := range []struct {
		store  *settings.Store
		prefix string
	}{{&s.MTLS, "mtls"}, {&s.JWT, "jwt"}} {
		for _, f := range []struct{ path, flag, variable string }{
			{st.store.PasswordFile, "--" + st.prefix + "-keystore-password-file", "SF_" + strings.ToUpper(st.prefix) + "_KEYSTORE_PASSWORD"},
			{st.store.KeyPasswordFile, "--" + st.prefix + "-key-password-file", "SF_" + strings.ToUpper(st.prefix) + "_KEY_PASSWORD"},
		} {
			if f.path != "" && pe.Path == f.path {
				return fmt.Sprintf("the password file %s named by %s cannot be read (%v): create it, or drop the flag and set %s",
					f.path, f.flag, pe.Err, f.variable)
			}
		}
	}
	return ""
}

// noPasswordFix names the variable and the flag when a keystore that needs a
// password was opened without one.
func noPasswordFix(err error, s *settings.Settings) string {
	if !errors.Is(err, settings.ErrNoPassword) {
		return ""
	}
	for _, st := range []*settings.Store{&s.MTLS, &s.JWT} {
		var ke *keystore.Error
		if st.Path != "" && errors.As(err, &ke) && ke.Source == st.Path {
			return "no password was given for " + st.Path + ": " + st.PasswordSource()
		}
	}
	return ""
}

// printCheck prints the steps that ran, numbered, then the verdict.
func printCheck(w io.Writer, r *diag.Report) {
	n := len(r.Steps)
	for i, st := range r.Steps {
		switch st.Status {
		case diag.StatusOK:
			fmt.Fprintf(w, "[%d/%d] %-18s ok      %s\n", i+1, n, st.Name, st.Detail)
			printWarnings(w, st.Warnings)
		case diag.StatusFailed:
			msg := st.Error
			if st.Fix != "" { // errors carry their fix; it gets a line of its own here
				msg = strings.Replace(strings.Replace(msg, " ("+st.Fix+")", "", 1), ": "+st.Fix, "", 1)
			}
			fmt.Fprintf(w, "[%d/%d] %-18s FAILED  %s\n", i+1, n, st.Name, msg)
			printWarnings(w, st.Warnings)
			if st.Cause != "" && !strings.Contains(msg, st.Cause) {
				fmt.Fprintf(w, "      cause: %s\n", st.Cause)
			}
			if st.Fix != "" {
				fmt.Fprintf(w, "      fix: %s\n", st.Fix)
			}
			fmt.Fprintf(w, "Connection FAILED at step %d (%s).\n", i+1, st.Name)
			return
		}
	}
	fmt.Fprintln(w, "Connection OK.")
}

func printWarnings(w io.Writer, warnings []string) {
	for _, warn := range warnings {
		fmt.Fprintf(w, "      warning: %s\n", warn)
	}
}
