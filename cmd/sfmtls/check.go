package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfmtls/sfmtls/cmd/sfmtls/internal/settings"
	"github.com/sfmtls/sfmtls/diag"
)

// checkTimeout bounds each network step of check, and token's request.
const checkTimeout = 30 * time.Second

func newCheckCommand(e *env) *cobra.Command {
	var s *settings.Settings
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "test the connection step by step: keystores, TLS handshake, JWT token, REST API",
		Long: `Test the connection as the SDK makes it, step by step: open the mTLS and JWT
keystores, the TLS handshake on the mutual TLS port with the client
certificate, the JWT bearer token, and a REST API call. The first failed step
is printed with its cause and a fix: line naming what to change; exit status 1.
Each step is printed as soon as it ends. --json prints the report instead, as
one JSON object once the check ends, with the same exit status.
` + connectionHelp,
		Args: noArgs,
		RunE: body(func(cmd *cobra.Command, _ []string) error {
			if err := needSettings(s); err != nil {
				return err
			}
			if code := runCheck(cmd, s, e, asJSON); code != exitOK {
				return exitCode(code)
			}
			return nil
		}),
	}
	s = connectionFlags(cmd, e)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as one JSON object (diag.Report) when the check ends")
	return cmd
}

// runCheck is the Test Connection: diag.CheckEnv reads the settings
// (flags over variables) with client.ConfigFromEnv, so that a keystore that
// cannot be opened fails its own step, and each step is printed as soon as it
// ends, with fixes that name the flag beside the variable. asJSON prints the
// report as JSON instead, when the check ends.
func runCheck(cmd *cobra.Command, s *settings.Settings, e *env, asJSON bool) int {
	if asJSON {
		r := diag.CheckEnv(e.ctx, s.Getenv(e.getenv), nil)
		if f := r.Failed(); f != nil {
			f.Fix = withFlags(cmd, f.Fix)
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(&r); err != nil {
			fmt.Fprintf(e.stderr, "sfmtls: %v\n", err)
			return exitFailure
		}
		if !r.OK {
			return exitFailure
		}
		return exitOK
	}
	fmt.Fprintf(e.stdout, "sfmtls check: %s as %s\n", s.LoginURL, s.Username)
	p := &stepPrinter{w: e.stdout}
	r := diag.CheckEnv(e.ctx, s.Getenv(e.getenv), func(st diag.Step) {
		if st.Status == diag.StatusFailed {
			st.Error, st.Cause, st.Fix = withFlags(cmd, st.Error), withFlags(cmd, st.Cause), withFlags(cmd, st.Fix)
		}
		p.print(st)
	})
	if r.OK {
		fmt.Fprintln(e.stdout, "Connection OK.")
	}
	if !r.OK {
		return exitFailure
	}
	return exitOK
}

// sfVariable matches an SF_* variable's name in an error or a fix.
var sfVariable = regexp.MustCompile(`\bSF_[A-Z0-9_]+\b`)

// withFlags names each SF_X_Y variable of a text together with its flag
// --x-y, when cmd has that flag.
func withFlags(cmd *cobra.Command, fix string) string {
	return sfVariable.ReplaceAllStringFunc(fix, func(v string) string {
		name := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(v, "SF_")), "_", "-")
		if cmd.Flags().Lookup(name) == nil {
			return v
		}
		return "--" + name + "/" + v
	})
}

// stepPrinter prints the steps of a check as they end, numbered, then the
// verdict of a failed one; the steps skipped after it are not printed.
type stepPrinter struct {
	w    io.Writer
	n    int  // steps printed
	done bool // a step failed
}

// checkSteps are the steps diag runs, in order, to number them as they end.
var checkSteps = [...]string{diag.StepMTLS, diag.StepJWT, diag.StepHandshake, diag.StepToken, diag.StepREST}

func (p *stepPrinter) print(st diag.Step) {
	if p.done {
		return
	}
	p.n++
	w, i, n := p.w, p.n, len(checkSteps)
	switch st.Status {
	case diag.StatusOK:
		fmt.Fprintf(w, "[%d/%d] %-18s ok      %s\n", i, n, st.Name, st.Detail)
		printWarnings(w, st.Warnings)
	case diag.StatusSkipped: // a step before the one a configuration problem fails
		fmt.Fprintf(w, "[%d/%d] %-18s not run\n", i, n, st.Name)
	case diag.StatusFailed:
		msg := st.Error
		if st.Fix != "" { // errors carry their fix; it gets a line of its own here
			msg = strings.Replace(strings.Replace(msg, " ("+st.Fix+")", "", 1), ": "+st.Fix, "", 1)
		}
		fmt.Fprintf(w, "[%d/%d] %-18s FAILED  %s\n", i, n, st.Name, msg)
		printWarnings(w, st.Warnings)
		if st.Cause != "" && !strings.Contains(msg, st.Cause) {
			fmt.Fprintf(w, "      cause: %s\n", st.Cause)
		}
		if st.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", st.Fix)
		}
		fmt.Fprintf(w, "Connection FAILED at step %d (%s).\n", i, st.Name)
		p.done = true
	}
}

func printWarnings(w io.Writer, warnings []string) {
	for _, warn := range warnings {
		fmt.Fprintf(w, "      warning: %s\n", warn)
	}
}
