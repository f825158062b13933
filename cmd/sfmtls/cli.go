package main

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sfmtls/sfmtls/diag"
	"github.com/spf13/pflag"
)

// The command line is built with cobra for GNU-style flags, `help COMMAND` and
// shell completion; what cobra would print on its own is routed here so every
// command keeps one set of habits: help on standard output with exit 0, wrong
// usage on standard error with the usage line and exit 2, a failure as one
// line "sfmtls: …" on standard error with exit 1.

// usageError is wrong usage found by a command itself (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCode ends a command that has already printed its outcome (check's
// report) with the given status.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// failure marks an error a command's body returned (exit 1), as opposed to
// what cobra returns for unknown commands, bad flags or arguments (exit 2).
type failure struct{ err error }

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// body wraps a command's body so its errors are told apart from cobra's.
func body(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		warnDeprecated(cmd)
		if err := fn(cmd, args); err != nil {
			var ue *usageError
			if errors.As(err, &ue) {
				return err
			}
			return &failure{err: err}
		}
		return nil
	}
}

// run executes one command line and returns the exit status.
func run(args []string, e *env) int {
	defer routeDefaultLog(e.stderr)()
	root := newRoot(e)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	if cmd == nil {
		cmd = root
	}
	var code exitCode
	var f *failure
	switch {
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &f):
		// One line: the library's errors never hold secrets, and a line is what
		// a log or a script wants. An error that knows its fix says it after.
		msg := f.err.Error()
		var fixer diag.Fixer
		if errors.As(f.err, &fixer) && fixer.Fix() != "" {
			msg += " (" + withFlags(cmd, fixer.Fix()) + ")"
		}
		fmt.Fprintf(e.stderr, "sfmtls: %s\n", oneLine(msg))
		return exitFailure
	}
	printUsageError(e.stderr, cmd, err)
	return exitUsage
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ") }

// printUsageError prints the reason, the command's usage line and where help is.
func printUsageError(w io.Writer, cmd *cobra.Command, err error) {
	fmt.Fprintf(w, "%s: %s\n", cmd.CommandPath(), err)
	fmt.Fprintf(w, "usage: %s\n", synopsis(cmd))
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(w, "Run '%s' for the commands.\n", helpLine(cmd))
		return
	}
	fmt.Fprintf(w, "Run '%s' for the flags.\n", helpLine(cmd))
}

func helpLine(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return "sfmtls help"
	}
	return "sfmtls help " + strings.TrimPrefix(cmd.CommandPath(), "sfmtls ")
}

// synopsis is the usage line: the command, its required flags without
// brackets, [flags] when it has others, then the arguments (cobra's Use after
// the name). The help lists every flag; the line stays short enough to read
// in a usage error (issue 20.4).
func synopsis(cmd *cobra.Command) string {
	if cmd.HasAvailableSubCommands() {
		return cmd.CommandPath() + " COMMAND [flags] [ARGS]"
	}
	parts := []string{cmd.CommandPath()}
	optional := false
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		if _, required := f.Annotations[requiredFlag]; !required {
			optional = true
			return
		}
		name, _ := pflag.UnquoteUsage(f)
		if name == "" {
			name = "VALUE"
		}
		parts = append(parts, "--"+f.Name+" "+name)
	})
	if oneOf := cmd.Annotations[requiredOneOf]; oneOf != "" {
		parts = append(parts, oneOf)
	}
	if optional {
		parts = append(parts, "[flags]")
	}
	if _, rest, ok := strings.Cut(cmd.Use, " "); ok {
		parts = append(parts, rest)
	}
	return strings.Join(parts, " ")
}

// requiredFlag annotates a flag the command cannot do without, so the usage
// line shows it without brackets; the command itself says when it is missing.
const requiredFlag = "sfmtls-required"

// requiredOneOf is a command annotation: the usage line's choice between
// flags of which one is required, e.g. "(--key-file FILE | --keystore FILE)".
const requiredOneOf = "sfmtls-required-one-of"

// markRequired annotates flags as required for the usage line and says so in
// their help.
func markRequired(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		_ = cmd.Flags().SetAnnotation(n, requiredFlag, []string{"true"})
		if f := cmd.Flags().Lookup(n); f != nil && !strings.Contains(f.Usage, "required") {
			f.Usage += " (required)"
		}
	}
}

// printHelp is every command's help, on standard output.
func printHelp(cmd *cobra.Command, w io.Writer) {
	if cmd.Long != "" {
		fmt.Fprintln(w, strings.TrimSpace(cmd.Long))
	} else {
		fmt.Fprintln(w, cmd.Short)
	}
	fmt.Fprintf(w, "\nusage: %s\n", synopsis(cmd))
	if subs := availableCommands(cmd); len(subs) > 0 {
		fmt.Fprintln(w, "\ncommands:")
		for _, s := range subs {
			fmt.Fprintf(w, "  %-18s %s\n", strings.TrimPrefix(s.CommandPath(), cmd.CommandPath()+" "), s.Short)
		}
	}
	if cmd.HasAvailableLocalFlags() {
		fmt.Fprintln(w, "\nflags:")
		fmt.Fprint(w, cmd.LocalFlags().FlagUsagesWrapped(100))
	}
	if cmd.Example != "" {
		fmt.Fprintf(w, "\nexamples:\n%s\n", strings.TrimRight(cmd.Example, "\n"))
	}
	if len(availableCommands(cmd)) > 0 {
		fmt.Fprintf(w, "\nRun 'sfmtls help COMMAND' for a command's flags.\n")
	}
}

// availableCommands lists the commands under cmd, with a group's own commands
// listed under their full name (keystore create, keystore convert).
func availableCommands(cmd *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, s := range cmd.Commands() {
		if !s.IsAvailableCommand() {
			continue
		}
		if s.Annotations["group"] == "true" && !cmd.HasParent() {
			out = append(out, availableCommands(s)...)
			continue
		}
		out = append(out, s)
	}
	return out
}

// newRoot builds the command tree for one run; nothing is global, so tests run
// commands in-process and in parallel.
func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "sfmtls",
		Short: "Salesforce mutual TLS and JWT bearer flow: keys, keystores, connection checks",
		Long: `sfmtls makes the keys, certificate requests and keystores a Salesforce mutual TLS
integration needs (no keytool or OpenSSL), inspects keystores, and tests the
connection step by step: keystores, TLS handshake on port 8443, JWT bearer
token, REST API.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// A bare "sfmtls" is wrong usage, not a request for help.
		RunE: func(*cobra.Command, []string) error { return usagef("a command is needed") },
		CompletionOptions: cobra.CompletionOptions{
			HiddenDefaultCmd: false,
		},
		// sfmtls --version prints what sfmtls version prints.
		Version: versionLine(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.InitDefaultVersionFlag() // now, so help lists it whichever command runs
	root.Flags().Lookup("version").Usage = "print the version, as sfmtls version does"
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetContext(e.ctx)
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { printHelp(cmd, cmd.OutOrStdout()) })
	root.SetUsageFunc(func(cmd *cobra.Command) error {
		fmt.Fprintf(cmd.ErrOrStderr(), "usage: %s\n", synopsis(cmd))
		return nil
	})
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.SetHelpCommand(helpCommand(e))

	root.AddCommand(
		newCSRCommand(e),
		newJWTCertCommand(e),
		newKeystoreCommand(e),
		newInspectCommand(e),
		newExportCertCommand(e),
		newCheckCommand(e),
		newTokenCommand(e),
		newQueryCommand(e),
		newFakeOrgCommand(e),
		newBulkCommand(e),
		newListenCommand(e),
		newPublishCommand(e),
		newVersionCommand(e),
	)
	return root
}

// helpCommand replaces cobra's, which prints an unknown topic's answer with
// exit 0 and the usage on standard error.
func helpCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "show a command's help",
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 || target == nil {
				return usagef("no command %q; 'sfmtls help' lists them", strings.Join(args, " "))
			}
			printHelp(target, e.stdout)
			return nil
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target, _, err := cmd.Root().Find(args)
			if err != nil || target == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, s := range target.Commands() {
				if s.IsAvailableCommand() && strings.HasPrefix(s.Name(), toComplete) {
					names = append(names, cobra.CompletionWithDesc(s.Name(), s.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
	}
}

// newVersionCommand prints the module version and the VCS revision the binary
// was built from, as the go command recorded them.
func newVersionCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version of sfmtls, from the build information",
		Args:  noArgs,
		RunE: body(func(*cobra.Command, []string) error {
			fmt.Fprintln(e.stdout, versionLine())
			return nil
		}),
	}
}

// versionLine reads the build information: the module version (a tag when
// installed with go install …@v1.2.3, "(devel)" from a checkout), the commit,
// its time and whether the tree was modified, and the Go version.
func versionLine() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "sfmtls (no build information: built without module support)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	line := "sfmtls " + bi.Main.Version
	if line == "sfmtls " {
		line = "sfmtls (devel)"
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		line += " commit " + rev
		if t := settings["vcs.time"]; t != "" {
			line += " " + t
		}
		if settings["vcs.modified"] == "true" {
			line += " (modified)"
		}
	}
	return line + " " + bi.GoVersion + " " + settings["GOOS"] + "/" + settings["GOARCH"]
}

// noArgs refuses arguments as wrong usage.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}

// exactArgs wants n arguments, named what in the message.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("expected %s, got %d arguments", what, len(args))
		}
		return nil
	}
}

// completeWords completes a flag from a fixed list.
func completeWords(words ...string) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	sort.Strings(words)
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, w := range words {
			if strings.HasPrefix(w, toComplete) {
				out = append(out, w)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// deprecatedAlias keeps old working as a hidden spelling of the flag name (one
// spelling per concept, issue 20.4): it sets the same value, is left out of
// the help and the usage line, and draws a warning naming the new spelling.
// The old spellings go in the release after next.
func deprecatedAlias(fs *pflag.FlagSet, old, name string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("sfmtls: no flag --" + name + " to alias as --" + old)
	}
	fs.Var(f.Value, old, f.Usage)
	_ = fs.MarkDeprecated(old, "use --"+name)
}

// warnDeprecated prints, on standard error, a warning for each deprecated
// spelling the command line used (pflag writes its own note where cobra keeps
// it unless parsing fails).
func warnDeprecated(cmd *cobra.Command) {
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Deprecated != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: --%s is deprecated and goes in a coming release: %s\n", f.Name, f.Deprecated)
		}
	})
}

// keystoreArg is the keystore a reading command (inspect, export-cert) is
// about: --keystore FILE, or the FILE argument of earlier releases, which is
// still taken with a deprecation warning.
func keystoreArg(cmd *cobra.Command, flag string, args []string) (string, error) {
	switch {
	case len(args) > 1:
		return "", usagef("expected one keystore, --keystore FILE, got %d arguments", len(args))
	case len(args) == 1 && flag != "" && args[0] != flag:
		return "", usagef("two keystores: --keystore %s and the argument %s; give --keystore FILE only", flag, args[0])
	case len(args) == 1:
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: the keystore as an argument is deprecated and goes in a coming release: use --keystore %s\n", args[0])
		return args[0], nil
	case flag == "":
		return "", usagef("--keystore FILE is required")
	}
	return flag, nil
}
