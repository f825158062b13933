package main

import (
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/keystore"
)

// storeFlags are the flags every command that opens a keystore shares.
type storeFlags struct {
	alias, passwordFile, keyPasswordFile, keyFile string
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.alias, "alias", "", "the private-key entry to use (default: the only one)")
	fs.StringVar(&s.passwordFile, "password-file", "", "read the keystore password from this file (default: $SF_KEYSTORE_PASSWORD)")
	fs.StringVar(&s.keyPasswordFile, "key-password-file", "", "read the key password from this file (default: $SF_KEY_PASSWORD, else the keystore password)")
	fs.StringVar(&s.keyFile, "key-file", "", "PEM only: the private key, when it is not in FILE")
}

// options resolves passwords from files, the environment or a prompt.
func (s *storeFlags) options(file string, e *env) (keystore.Options, error) {
	store, err := secretFrom(s.passwordFile, "SF_KEYSTORE_PASSWORD", "Keystore password for "+file+": ", e, true)
	if err != nil {
		return keystore.Options{}, err
	}
	key, err := secretFrom(s.keyPasswordFile, "SF_KEY_PASSWORD", "", e, false)
	if err != nil {
		return keystore.Options{}, err
	}
	return keystore.Options{Password: store, KeyPassword: key, Alias: s.alias, KeyFile: s.keyFile}, nil
}

func secretFrom(file, variable, promptLabel string, e *env, mayPrompt bool) (keystore.Secret, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("cannot read password file: %w", err)
		}
		return keystore.Secret(strings.TrimRight(string(b), "\r\n")), nil
	}
	if v := e.getenv(variable); v != "" {
		return keystore.Secret(v), nil
	}
	if mayPrompt && e.prompt != nil {
		v, ok, err := e.prompt(promptLabel)
		if err != nil {
			return "", fmt.Errorf("cannot read the password: %w", err)
		}
		if ok {
			return keystore.Secret(v), nil
		}
	}
	return "", nil
}

// parseInterleaved parses flags that may stand before or after the positional
// arguments, as users type them.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newFlagSet(name, synopsis string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: sfmtls %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// oneFile parses the flags and the single FILE argument; ok=false means exit with code.
func oneFile(fs *flag.FlagSet, args []string, e *env) (file string, code int, ok bool) {
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return "", exitOK, false
	}
	if err != nil {
		return "", exitUsage, false
	}
	if len(pos) != 1 {
		fmt.Fprintf(e.stderr, "sfmtls %s: expected one FILE, got %d arguments\n", fs.Name(), len(pos))
		fs.Usage()
		return "", exitUsage, false
	}
	return pos[0], 0, true
}

// parseStoreCommand parses a keystore command's flags and FILE and resolves the
// passwords; ok=false means exit with code.
func parseStoreCommand(fs *flag.FlagSet, sf *storeFlags, args []string, e *env) (file string, opts keystore.Options, code int, ok bool) {
	sf.register(fs)
	if file, code, ok = oneFile(fs, args, e); !ok {
		return "", keystore.Options{}, code, false
	}
	opts, err := sf.options(file, e)
	if err != nil {
		return "", keystore.Options{}, fail(e, err), false
	}
	return file, opts, exitOK, true
}

func fail(e *env, err error) int {
	// One line: keystore errors are single-line and never hold secrets.
	fmt.Fprintf(e.stderr, "sfmtls: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	return exitFailure
}

func cmdInspect(args []string, e *env) int {
	fs := newFlagSet("inspect", "[--json] [--alias A] [--password-file F] FILE", e)
	asJSON := fs.Bool("json", false, "print one JSON object")
	file, opts, code, ok := parseStoreCommand(fs, &storeFlags{}, args, e)
	if !ok {
		return code
	}
	report, err := keystore.InspectFile(file, opts)
	if err != nil {
		return fail(e, err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return fail(e, err)
		}
		return exitOK
	}
	printReport(e, file, report)
	return exitOK
}

func printReport(e *env, file string, r *keystore.Report) {
	w := e.stdout
	fmt.Fprintf(w, "File:   %s\nFormat: %s\n", file, r.Format)
	yesNo := map[bool]string{true: "yes", false: "no"}
	for i, en := range r.Entries {
		alias := fmt.Sprintf("%q", en.Alias)
		if en.Alias == "" {
			alias = "(none)"
		}
		fmt.Fprintf(w, "\nEntry %d: %s, alias %s\n", i+1, en.Kind, alias)
		fmt.Fprintf(w, "  Subject:      %s\n", en.Subject)
		fmt.Fprintf(w, "  Issuer:       %s\n", en.Issuer)
		fmt.Fprintf(w, "  Serial:       %s\n", en.Serial)
		fmt.Fprintf(w, "  Valid:        %s to %s\n", en.NotBefore.Format(time.RFC3339), en.NotAfter.Format(time.RFC3339))
		fmt.Fprintf(w, "  Key:          %s %d bits\n", en.KeyType, en.KeyBits)
		fmt.Fprintf(w, "  Chain:        %d certificate(s) sent in the handshake\n", en.ChainLength)
		fmt.Fprintf(w, "  Self-signed:  %s\n", yesNo[en.SelfSigned])
		fmt.Fprintf(w, "  clientAuth:   %s\n", yesNo[en.ClientAuth])
		for _, warn := range en.Warnings {
			fmt.Fprintf(w, "  WARNING:      %s\n", warn)
		}
	}
	if len(r.Entries) == 0 {
		fmt.Fprintln(w, "\nNo entries.")
	}
}

func cmdExportCert(args []string, e *env) int {
	fs := newFlagSet("export-cert", "[--chain] [--alias A] [--password-file F] FILE", e)
	withChain := fs.Bool("chain", false, "print the intermediates after the client certificate")
	file, opts, code, ok := parseStoreCommand(fs, &storeFlags{}, args, e)
	if !ok {
		return code
	}
	id, err := keystore.LoadFile(file, opts)
	if err != nil {
		return fail(e, err)
	}
	certs := id.Chain()
	if !*withChain {
		certs = certs[:1]
	}
	for _, c := range certs {
		if err := pem.Encode(e.stdout, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
			return fail(e, err)
		}
	}
	return exitOK
}
