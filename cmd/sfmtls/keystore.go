package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sfmtls/sfmtls/keystore"
)

// storeFlags are the flags of the commands that read one keystore FILE.
type storeFlags struct {
	keystore, alias, passwordFile, keyPasswordFile, keyFile string
}

func (s *storeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.keystore, "keystore", "", "the keystore `FILE` to read: JKS, JCEKS, PKCS#12 or PEM (required)")
	fs.StringVar(&s.alias, "alias", "", "the private-key entry's `ALIAS`, case-insensitively (default: the only one)")
	fs.StringVar(&s.passwordFile, "password-file", "", "read the keystore password from `FILE` (default: $SF_KEYSTORE_PASSWORD)")
	fs.StringVar(&s.keyPasswordFile, "key-password-file", "", "read the key password from `FILE` (default: $SF_KEY_PASSWORD, else the keystore password)")
	fs.StringVar(&s.keyFile, "key-file", "", "PEM only: the private key's `FILE`, when it is not in the keystore file")
}

// storeSource is where the password of file comes from: --password-file,
// SF_KEYSTORE_PASSWORD, and, for the file a connection setting names, that
// setting's own variable (inspect $SF_MTLS_KEYSTORE then needs no second one).
func (s *storeFlags) storeSource(file string, e *env) secretSource {
	src := secretSource{flag: "--password-file", file: s.passwordFile, variable: "SF_KEYSTORE_PASSWORD",
		label: "Keystore password for " + file + ": "}
	if s.passwordFile != "" || e.getenv(src.variable) != "" {
		return src
	}
	for _, p := range []string{"SF_MTLS_KEYSTORE", "SF_JWT_KEYSTORE"} {
		if file != "" && e.getenv(p) == file && e.getenv(p+"_PASSWORD") != "" {
			src.variable = p + "_PASSWORD"
		}
	}
	return src
}

// load opens the store FILE with the passwords from files, the environment or a
// prompt. fn reports whether FILE holds a private key: only then does a FILE
// other users can read draw a warning, as certificates are not secret (one
// other users can write is refused either way, before it is read).
func (s *storeFlags) load(file string, e *env, fn func(string, keystore.Options) (hasKey bool, err error)) error {
	if err := checkSecret(e, "keystore", file, false); err != nil {
		return err
	}
	if err := checkSecret(e, "--key-file", s.keyFile, true); err != nil {
		return err
	}
	src := s.storeSource(file, e)
	store, err := src.read(e, false)
	if err != nil {
		return err
	}
	key, err := secretSource{flag: "--key-password-file", file: s.keyPasswordFile, variable: "SF_KEY_PASSWORD"}.read(e, false)
	if err != nil {
		return err
	}
	hasKey, err := fn(file, keystore.Options{Password: store, KeyPassword: key, Alias: s.alias, KeyFile: s.keyFile})
	if key == "" {
		err = explainNoPassword(err, store, src)
	}
	if err != nil {
		return err
	}
	if hasKey && s.keyFile == "" {
		return checkSecret(e, "keystore", file, true)
	}
	return nil
}

func newInspectCommand(e *env) *cobra.Command {
	var sf storeFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect",
		Short: "show every entry of a keystore, with warnings for Salesforce mutual TLS",
		Long: `Show every entry of a keystore (JKS, JCEKS, PKCS#12 or PEM): subject, issuer,
validity, key, the chain sent in the handshake, and warnings for Salesforce
mutual TLS (self-signed, no clientAuth, dual-use, expiring). Warnings do not
change the exit status. A file without a private key (certificates only, as a
truststore or a PEM certificate, or a CSR) is said to have none, with exit
status 0: a truststore is a legitimate keystore, but not the mTLS or JWT one.`,
		Args: cobra.MaximumNArgs(1),
		RunE: body(func(cmd *cobra.Command, args []string) error {
			file, err := keystoreArg(cmd, sf.keystore, args)
			if err != nil {
				return err
			}
			var report *keystore.Report
			hasKey := false
			err = sf.load(file, e, func(file string, opts keystore.Options) (bool, error) {
				var err error
				if report, err = keystore.InspectFile(file, opts); err != nil {
					return false, err
				}
				for _, en := range report.Entries {
					hasKey = hasKey || en.Kind == keystore.PrivateKeyEntry
				}
				return hasKey, nil
			})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					*keystore.Report
					PrivateKey bool `json:"private_key"`
				}{report, hasKey})
			}
			printReport(e, file, report)
			if !hasKey {
				printNoPrivateKey(e, file, len(report.Entries))
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	sf.register(cmd.Flags())
	markRequired(cmd, "keystore")
	return cmd
}

func printReport(e *env, file string, r *keystore.Report) {
	w := e.stdout
	fmt.Fprintf(w, "File:   %s\nFormat: %s\n", file, r.Format)
	if r.Integrity != "" {
		fmt.Fprintf(w, "Integrity check: %s\n", r.Integrity)
	}
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
		if en.KeyBits > 0 {
			fmt.Fprintf(w, "  Key:          %s %d bits\n", en.KeyType, en.KeyBits)
		} else {
			fmt.Fprintf(w, "  Key:          %s\n", en.KeyType)
		}
		fmt.Fprintf(w, "  Chain:        %d certificate(s) sent in the handshake\n", en.ChainLength)
		fmt.Fprintf(w, "  Self-signed:  %s\n", yesNo[en.SelfSigned])
		fmt.Fprintf(w, "  clientAuth:   %s\n", yesNo[en.ClientAuth])
		for _, warn := range en.Warnings {
			fmt.Fprintf(w, "  WARNING:      %s\n", warn)
		}
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", warn)
	}
}

// maxCSRPeek bounds what printNoPrivateKey reads to tell a CSR.
const maxCSRPeek = 1 << 20

// printNoPrivateKey says that a file holds no private key and what it can be
// used for: certificates only are a truststore (SF_CA_FILE) or the certificate
// to upload; a CSR is what the CA signs, not a keystore.
func printNoPrivateKey(e *env, file string, certs int) {
	w := e.stdout
	if isCSR(file) {
		fmt.Fprintf(w, "\nNo private key: %s is a certificate signing request (CSR), not a keystore: the CA signs it;\n"+
			"then build the keystore from the CSR's key and the certificate the CA returns\n"+
			"(sfmtls keystore create --key-file KEY --cert CERT --keystore FILE).\n", file)
		return
	}
	if certs == 0 {
		fmt.Fprintln(w, "\nNo entries: no private key and no certificate.")
		return
	}
	fmt.Fprintf(w, "\nNo private key: certificates only. Fine as a truststore (--ca-file/SF_CA_FILE) or as the certificate\n"+
		"to upload; the mTLS and JWT keystores need the key too: for a PEM certificate whose key is\n"+
		"in another file, give it with --key-file FILE, or build one with sfmtls keystore create.\n")
}

// isCSR reports whether file is a PEM certificate signing request: its first
// PEM block is a CERTIFICATE REQUEST that parses as one.
func isCSR(file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCSRPeek))
	if err != nil {
		return false
	}
	block, _ := pem.Decode(data)
	if block == nil || (block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST") {
		return false
	}
	_, err = x509.ParseCertificateRequest(block.Bytes)
	return err == nil
}

func newExportCertCommand(e *env) *cobra.Command {
	var sf storeFlags
	var withChain bool
	cmd := &cobra.Command{
		Use:   "export-cert",
		Short: "print the certificate to upload to Salesforce as Mutual Authentication Certificate",
		Long: `Print the keystore's client certificate as PEM: the file to upload in Setup →
Certificate and Key Management → Upload Mutual Authentication Certificate (the
certificate only, not the chain), or to the app for the JWT bearer flow.`,
		Args: cobra.MaximumNArgs(1),
		RunE: body(func(cmd *cobra.Command, args []string) error {
			file, err := keystoreArg(cmd, sf.keystore, args)
			if err != nil {
				return err
			}
			var id *keystore.Identity
			err = sf.load(file, e, func(file string, opts keystore.Options) (bool, error) {
				var err error
				id, err = keystore.LoadFile(file, opts)
				return err == nil, err
			})
			if err != nil {
				return err
			}
			certs := id.Chain()
			if !withChain {
				certs = certs[:1]
			}
			for _, c := range certs {
				if err := pem.Encode(e.stdout, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
					return err
				}
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&withChain, "chain", false, "print the intermediates after the client certificate")
	sf.register(cmd.Flags())
	markRequired(cmd, "keystore")
	return cmd
}
