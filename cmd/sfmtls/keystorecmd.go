package main

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sfmtls/sfmtls/certgen"
	"github.com/sfmtls/sfmtls/internal/certfile"
	"github.com/sfmtls/sfmtls/keystore"
)

func newKeystoreCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:         "keystore COMMAND",
		Short:       "create a keystore from a key and its certificates, or convert one",
		Annotations: map[string]string{"group": "true"},
		Args:        cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("a command is needed: create or convert")
			}
			return usagef("unknown command %q: create or convert", args[0])
		},
	}
	cmd.AddCommand(newKeystoreCreateCommand(e), newKeystoreConvertCommand(e))
	return cmd
}

// inFlags say how the keystore or key that is read is opened.
type inFlags struct {
	passwordFile, keyPasswordFile, alias string
}

func (f *inFlags) register(fs *pflag.FlagSet, what string) {
	fs.StringVar(&f.passwordFile, "in-password-file", "", "read the password of "+what+" from `FILE` (default: $SF_IN_KEYSTORE_PASSWORD, else the new keystore's password)")
	fs.StringVar(&f.keyPasswordFile, "in-key-password-file", "", "JKS/JCEKS: read the key password of "+what+" from `FILE` (default: $SF_IN_KEY_PASSWORD, else its store password)")
}

// options reads the input's passwords; without any, the output's password is
// tried, as the same password usually protects both.
func (f *inFlags) options(path string, fallback keystore.Secret, e *env) (keystore.Options, secretSource, error) {
	src := secretSource{flag: "--in-password-file", file: f.passwordFile, variable: "SF_IN_KEYSTORE_PASSWORD"}
	pw, err := src.read(e, false)
	if err != nil {
		return keystore.Options{}, src, err
	}
	if pw == "" {
		pw = fallback
	}
	kpw, err := secretSource{flag: "--in-key-password-file", file: f.keyPasswordFile, variable: "SF_IN_KEY_PASSWORD"}.read(e, false)
	if err != nil {
		return keystore.Options{}, src, err
	}
	return keystore.Options{Password: pw, KeyPassword: kpw, Alias: f.alias}, src, nil
}

// loadInput opens path with load; a wrong password says where the input's
// password comes from.
func (f *inFlags) loadInput(path string, fallback keystore.Secret, e *env, load func(keystore.Options) (*keystore.Identity, error)) (*keystore.Identity, error) {
	opts, src, err := f.options(path, fallback, e)
	if err != nil {
		return nil, err
	}
	id, err := load(opts)
	if errors.Is(err, keystore.ErrWrongPassword) && f.passwordFile == "" && e.getenv(src.variable) == "" {
		tried := "no password was given"
		if fallback != "" {
			tried = "the new keystore's password was tried"
		}
		return nil, fmt.Errorf("%w; %s for %s: %s", err, tried, path, src.where())
	}
	return id, err
}

// checkFlags say what the identity is checked against before it is written.
type checkFlags struct {
	caFile string
	jwt    bool
}

func (f *checkFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.caFile, "ca-file", "", "trusted root certificates (PEM `FILE`) the chain must lead to (default: the system's roots)")
	deprecatedAlias(fs, "ca", "ca-file")
	fs.BoolVar(&f.jwt, "jwt", false, "the keystore is the JWT bearer flow's signing one: RSA required, self-signed fine")
}

// check runs certgen.CheckIdentity: errors stop the write, warnings are printed.
func (f *checkFlags) check(e *env, key crypto.Signer, chain []*x509.Certificate) error {
	opts := certgen.CheckOptions{}
	if f.jwt {
		opts.Purpose = certgen.PurposeJWT
	}
	if f.caFile != "" {
		roots, err := certfile.Read(f.caFile)
		if err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
		opts.Roots = roots
	}
	warnings, err := certgen.CheckIdentity(key, chain, opts)
	if errors.Is(err, certgen.ErrIncompleteChain) && f.caFile == "" {
		return fmt.Errorf("nothing written: %w; a private CA's root is given with --ca-file FILE", err)
	}
	if err != nil {
		return fmt.Errorf("nothing written: %w", err)
	}
	warn(e, warnings)
	return nil
}

func newKeystoreCreateCommand(e *env) *cobra.Command {
	var (
		out                          outFlags
		in                           inFlags
		chk                          checkFlags
		storePath, keyPath, certPath string
		chainPaths                   []string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "put a key, its certificate and the chain into a JKS or PKCS#12 keystore",
		Long: `Put a private key, the certificate the CA issued for it and the CA's
intermediates into a JKS or PKCS#12 keystore, as the SDK, MuleSoft and Java
read it. The key comes from --key-file (a PEM file, encrypted or not) or, without
--key-file, from the keystore 'sfmtls csr --keystore' made, whose placeholder
certificate is then replaced.

Before writing: the key must match the certificate, and the chain must be
complete and in order up to a trusted root (--ca-file, else the system's roots).
A self-signed or dual-use (serverAuth+clientAuth) certificate meant for mutual
TLS gets a warning. The new keystore's password comes from --password-file or
SF_KEYSTORE_PASSWORD (else asked on a terminal); a JKS may keep the key under
a separate password (--key-password-file or SF_KEY_PASSWORD).`,
		Example: `  sfmtls keystore create --keystore mtls.jks --cert client.crt --chain chain.pem --ca-file root.pem
  sfmtls keystore create --key-file client.key --cert client.crt --chain chain.pem --keystore mtls.p12`,
		Args: noArgs,
		RunE: body(func(*cobra.Command, []string) error {
			if storePath == "" || certPath == "" {
				return usagef("--keystore FILE and --cert FILE are required")
			}
			format, err := out.format(storePath, false)
			if err != nil {
				return err
			}
			chain, err := certfile.Read(certPath)
			if err != nil {
				return err
			}
			for _, p := range chainPaths {
				more, err := certfile.Read(p)
				if err != nil {
					return err
				}
				chain = append(chain, more...)
			}
			chain = dropDuplicates(chain)
			// The key from --key-file, else from the keystore csr made, which is then replaced.
			replacing := false
			if keyPath == "" {
				if _, err := os.Stat(storePath); err != nil {
					return usagef("--key-file FILE is needed: %s does not exist to take the key from", storePath)
				}
				replacing = true
			} else if err := refuseExisting(out.force, storePath); err != nil {
				return err
			}
			opts, err := out.options(storePath, format, e)
			if err != nil {
				return err
			}
			keyID, err := in.loadKey(keyPath, storePath, chain, opts.Password, e)
			if err != nil {
				return fmt.Errorf("nothing written: %w", err)
			}
			if opts.Alias == "" && replacing {
				opts.Alias = keyID.Alias()
			}
			if err := chk.check(e, keyID.Signer(), chain); err != nil {
				return err
			}
			id, err := keystore.NewIdentity(keyID.Signer(), chain)
			if err != nil {
				return err
			}
			opts.Overwrite = opts.Overwrite || replacing
			if err := keystore.WriteFile(storePath, id, opts); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Wrote %s (%s, alias %q): %s.\n", storePath, format, storedAlias(opts), describe(id))
			if !chk.jwt {
				fmt.Fprintf(e.stdout, "Upload %s (the certificate only) in Setup → Certificate and Key Management → Upload Mutual Authentication Certificate;\n"+
					"'sfmtls export-cert --keystore %s' prints it.\n", certPath, storePath)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&storePath, "keystore", "", "the keystore `FILE` to write (.jks or .p12; required)")
	f.StringVar(&certPath, "cert", "", "the certificate the CA issued, PEM or DER `FILE` (required); may hold the chain after it")
	f.StringArrayVar(&chainPaths, "chain", nil, "the CA's intermediate certificates, PEM `FILE`, leaf side first (repeatable)")
	f.StringVar(&keyPath, "key-file", "", "the private key, PEM `FILE` (default: the key already in --keystore)")
	deprecatedAlias(f, "key", "key-file")
	in.register(f, "--key-file (or of the keystore replaced)")
	chk.register(f)
	out.register(f, "", false)
	out.completions(cmd, false)
	markRequired(cmd, "keystore", "cert")
	return cmd
}

// loadKey reads the private key: from a PEM key file, read beside the
// certificates (a key alone is no keystore), or from a keystore.
func (f *inFlags) loadKey(keyPath, storePath string, chain []*x509.Certificate, fallback keystore.Secret, e *env) (*keystore.Identity, error) {
	if keyPath == "" {
		if err := checkSecret(e, "--keystore", storePath, true); err != nil {
			return nil, err
		}
		return f.loadInput(storePath, fallback, e, func(opts keystore.Options) (*keystore.Identity, error) {
			return keystore.LoadFile(storePath, opts)
		})
	}
	if err := checkSecret(e, "--key-file", keyPath, true); err != nil {
		return nil, err
	}
	return f.loadInput(keyPath, fallback, e, func(opts keystore.Options) (*keystore.Identity, error) {
		opts.Name, opts.KeyFile = keyPath, keyPath
		return keystore.Load(certgen.CertificatePEM(chain...), opts)
	})
}

// dropDuplicates keeps the first of equal certificates: a CA's bundle often
// repeats the leaf or an intermediate given separately.
func dropDuplicates(chain []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range chain {
		dup := false
		for _, o := range out {
			dup = dup || o.Equal(c)
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

func newKeystoreConvertCommand(e *env) *cobra.Command {
	var (
		out             outFlags
		in              inFlags
		chk             checkFlags
		inPath, outPath string
		inKeyFile       string
		unencrypted     bool
	)
	cmd := &cobra.Command{
		Use:   "convert",
		Short: "convert a keystore (JKS, JCEKS, PKCS#12, PEM) to JKS, PKCS#12 or PEM",
		Long: `Convert the key entry of a keystore sfmtls reads (JKS, JCEKS, PKCS#12, PEM) to
JKS, PKCS#12 or PEM, with the same checks as keystore create: the key matches
the certificate, the chain is complete and in order (--ca-file names private
roots), and warnings for a self-signed or dual-use mutual TLS certificate.
The input's password comes from --in-password-file or SF_IN_KEYSTORE_PASSWORD,
else the new keystore's (--password-file or SF_KEYSTORE_PASSWORD) is tried. A
PEM output holds the chain and the key, encrypted unless --unencrypted-key.`,
		Example: `  sfmtls keystore convert --in-keystore mtls.jks --keystore mtls.p12 --ca-file root.pem
  sfmtls keystore convert --in-keystore mulesoft.p12 --keystore mulesoft.jks --jwt`,
		Args: noArgs,
		RunE: body(func(*cobra.Command, []string) error {
			if inPath == "" || outPath == "" {
				return usagef("--in-keystore FILE and --keystore FILE are required")
			}
			format, err := out.format(outPath, true)
			if err != nil {
				return err
			}
			if unencrypted && format != keystore.FormatPEM {
				return usagef("--unencrypted-key is for a PEM output only")
			}
			if err := refuseExisting(out.force, outPath); err != nil {
				return err
			}
			var opts keystore.WriteOptions
			if unencrypted {
				// No new password; one given still serves as the input's.
				storeSrc, _ := out.sources(outPath)
				storeSrc.label = ""
				pw, err := storeSrc.read(e, false)
				if err != nil {
					return err
				}
				opts = keystore.WriteOptions{Format: format, UnencryptedKey: true, Overwrite: out.force, Password: pw}
			} else if opts, err = out.options(outPath, format, e); err != nil {
				return err
			}
			if err := checkSecret(e, "--in-keystore", inPath, inKeyFile == ""); err != nil {
				return err
			}
			if err := checkSecret(e, "--in-key-file", inKeyFile, true); err != nil {
				return err
			}
			id, err := in.loadInput(inPath, opts.Password, e, func(o keystore.Options) (*keystore.Identity, error) {
				o.KeyFile = inKeyFile
				return keystore.LoadFile(inPath, o)
			})
			if err != nil {
				return err
			}
			if err := chk.check(e, id.Signer(), id.Chain()); err != nil {
				return err
			}
			if opts.Alias == "" {
				opts.Alias = id.Alias()
			}
			if unencrypted {
				opts.Password = ""
			}
			if err := keystore.WriteFile(outPath, id, opts); err != nil {
				return err
			}
			alias := ""
			if format != keystore.FormatPEM {
				alias = fmt.Sprintf(", alias %q", storedAlias(opts))
			}
			fmt.Fprintf(e.stdout, "Wrote %s (%s%s) from %s (%s): %s.\n", outPath, format, alias, inPath, id.SourceFormat(), describe(id))
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&inPath, "in-keystore", "", "the keystore `FILE` to read: JKS, JCEKS, PKCS#12 or PEM (required)")
	f.StringVar(&outPath, "keystore", "", "the keystore `FILE` to write: .jks, .p12 or .pem (required)")
	deprecatedAlias(f, "in", "in-keystore")
	deprecatedAlias(f, "out", "keystore")
	f.StringVar(&in.alias, "in-alias", "", "the `ALIAS` of the key entry to read, case-insensitively (default: the only one)")
	f.StringVar(&inKeyFile, "in-key-file", "", "PEM input only: the private key's `FILE`, when it is not in --in-keystore")
	in.register(f, "--in-keystore")
	chk.register(f)
	out.register(f, "", true)
	f.BoolVar(&unencrypted, "unencrypted-key", false, "PEM output only: write the key in the clear (mode 0600), for servers that cannot read an encrypted key")
	out.completions(cmd, true)
	markRequired(cmd, "in-keystore", "keystore")
	return cmd
}
