package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfmtls/sfmtls/certgen"
	"github.com/sfmtls/sfmtls/internal/keydefaults"
	"github.com/sfmtls/sfmtls/keystore"
)

// withExt replaces path's extension.
func withExt(path, ext string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ext
}

func keyTypeNames(rsaOnly bool) []string {
	var names []string
	for _, kt := range certgen.KeyTypes() {
		if !rsaOnly || strings.HasPrefix(string(kt), "rsa") {
			names = append(names, string(kt))
		}
	}
	return names
}

func newCSRCommand(e *env) *cobra.Command {
	var (
		subj                      subjectFlags
		out                       outFlags
		keyType, keyPath, csrPath string
		storePath                 string
		dnsNames, emailAddresses  []string
	)
	cmd := &cobra.Command{
		Use:   "csr",
		Short: "make a private key and a certificate signing request for the mutual TLS certificate",
		Long: `Make a new private key and a certificate signing request (CSR) for the CA that
issues the mutual TLS client certificate. The CSR asks for the clientAuth
extended key usage only: public CAs stopped issuing serverAuth+clientAuth
("dual-use") certificates on 2026-06-15, and Salesforce refuses self-signed
certificates for mutual TLS.

The key is written either encrypted to a PEM file (--key-file: PKCS#8, AES-256,
PBKDF2-HMAC-SHA256) or straight into a JKS or PKCS#12 keystore (--keystore),
where a self-signed placeholder certificate holds its place until
'sfmtls keystore create' puts the CA's certificate there. Files are written
with mode 0600 and never replaced without --force. The password comes from
--password-file or SF_KEYSTORE_PASSWORD, else it is asked on a terminal.`,
		Example: `  sfmtls csr --cn orders.example.com --org "Example Corp" --country US --keystore mtls.jks
  sfmtls csr --cn orders.example.com --key-type p256 --key-file client.key --csr client.csr`,
		Args: noArgs,
		RunE: body(func(*cobra.Command, []string) error {
			name, err := subj.name()
			if err != nil {
				return err
			}
			kt, err := certgen.ParseKeyType(keyType)
			if err != nil {
				return usagef("--key-type %q: choose one of %s", keyType, strings.Join(keyTypeNames(false), ", "))
			}
			var target string
			var format keystore.Format
			switch {
			case keyPath == "" && storePath == "":
				return usagef("give --key-file FILE (an encrypted PEM key) or --keystore FILE (a JKS or PKCS#12 keystore) for the new private key")
			case keyPath != "" && storePath != "":
				return usagef("--key-file and --keystore: choose one place for the new private key")
			case keyPath != "":
				if out.storeType != "" || out.keyPasswordFile != "" {
					return usagef("--store-type and --key-password-file go with --keystore, not --key-file")
				}
				target, format = keyPath, keystore.FormatPEM
			default:
				target = storePath
				if format, err = out.format(storePath, false); err != nil {
					return err
				}
			}
			if csrPath == "" {
				csrPath = withExt(target, ".csr")
			}
			if err := refuseExisting(out.force, target, csrPath); err != nil {
				return err
			}
			opts, err := out.options(target, format, e)
			if err != nil {
				return err
			}
			key, err := certgen.GenerateKey(kt)
			if err != nil {
				return err
			}
			csr, err := certgen.NewCSR(key, name, certgen.CSROptions{DNSNames: dnsNames, EmailAddresses: emailAddresses})
			if err != nil {
				return err
			}
			var wrote string
			if keyPath != "" {
				block, err := keystore.EncryptPKCS8(key, opts.Password)
				if err != nil {
					return err
				}
				if err := writeSecret(keyPath, pem.EncodeToMemory(block), out.force); err != nil {
					return err
				}
				wrote = fmt.Sprintf("Wrote the new private key (%s) to %s: PKCS#8, encrypted with AES-256 (PBES2).", kt, keyPath)
			} else {
				placeholder, err := certgen.NewPlaceholderCertificate(key, name, 0)
				if err != nil {
					return err
				}
				id, err := keystore.NewIdentity(key, []*x509.Certificate{placeholder})
				if err != nil {
					return err
				}
				if err := keystore.WriteFile(storePath, id, opts); err != nil {
					return err
				}
				wrote = fmt.Sprintf("Wrote the new private key (%s) into %s (%s, alias %q), with a self-signed placeholder\n"+
					"certificate until the CA's certificate replaces it.", kt, storePath, format, storedAlias(opts))
			}
			if err := writeSecret(csrPath, csr, out.force); err != nil {
				return err
			}
			create := "sfmtls keystore create --keystore " + storePath + " --cert client.crt --chain chain.pem"
			if keyPath != "" {
				create = "sfmtls keystore create --key-file " + keyPath + " --cert client.crt --chain chain.pem --keystore mtls.jks"
			}
			fmt.Fprintf(e.stdout, `%s
Wrote the certificate signing request to %s: %s, extended key usage clientAuth only.

Next:
  1. Send %s to your certificate authority. Ask for a client certificate with the
     clientAuth extended key usage only (not serverAuth+clientAuth: public CAs stopped
     issuing those on 2026-06-15). Salesforce refuses self-signed certificates here.
  2. When the certificate arrives (say client.crt, the CA's intermediates in chain.pem):
       %s
  3. Upload client.crt (the certificate only, not the chain) in Setup → Certificate and
     Key Management → Upload Mutual Authentication Certificate.
`, wrote, csrPath, name, csrPath, create)
			return nil
		}),
	}
	f := cmd.Flags()
	subj.register(f)
	f.StringVar(&keyType, "key-type", string(certgen.RSA2048), "the new key's `TYPE`: "+strings.Join(keyTypeNames(false), ", "))
	f.StringVar(&keyPath, "key-file", "", "write the new key encrypted to this PEM `FILE` (this or --keystore is required)")
	f.StringVar(&storePath, "keystore", "", "write the new key into this JKS or PKCS#12 `FILE` (this or --key-file is required)")
	deprecatedAlias(f, "key", "key-file")
	f.StringVar(&csrPath, "csr", "", "write the CSR to `FILE` (default: the key's file name with .csr)")
	f.StringArrayVar(&dnsNames, "dns", nil, "a DNS `NAME` for the subjectAltName, if your CA wants one (repeatable)")
	f.StringArrayVar(&emailAddresses, "email", nil, "an e-mail `ADDRESS` for the subjectAltName (repeatable)")
	out.register(f, keydefaults.Alias, false)
	out.completions(cmd, false)
	markRequired(cmd, "cn")
	cmd.Annotations = map[string]string{requiredOneOf: "(--key-file FILE | --keystore FILE)"}
	_ = cmd.RegisterFlagCompletionFunc("key-type", completeWords(keyTypeNames(false)...))
	return cmd
}

// storedAlias is the alias a JKS or PKCS#12 entry gets (JKS lower-cases it, as keytool does).
func storedAlias(opts keystore.WriteOptions) string {
	alias := opts.Alias
	if alias == "" {
		alias = keydefaults.Alias
	}
	if opts.Format == keystore.FormatJKS {
		return strings.ToLower(alias)
	}
	return alias
}

func newJWTCertCommand(e *env) *cobra.Command {
	var (
		subj                         subjectFlags
		out                          outFlags
		keyType, storePath, certPath string
		days                         int
	)
	cmd := &cobra.Command{
		Use:   "jwt-cert",
		Short: "make the JWT bearer flow's signing key, its self-signed certificate and keystore",
		Long: `Make the JWT bearer flow's signing identity in one step: a new RSA key and a
self-signed certificate (Salesforce verifies RS256 with the certificate uploaded
to the connected app or external client app), written to a JKS or PKCS#12
keystore (MuleSoft's mulesoft.jks), and the certificate as PEM to upload.
Files are written with mode 0600 and never replaced without --force.`,
		Example: `  sfmtls jwt-cert --cn orders-jwt --keystore mulesoft.jks --cert jwt.crt`,
		Args:    noArgs,
		RunE: body(func(*cobra.Command, []string) error {
			name, err := subj.name()
			if err != nil {
				return err
			}
			kt, err := certgen.ParseKeyType(keyType)
			if err != nil || !strings.HasPrefix(string(kt), "rsa") {
				return usagef("--key-type %q: the JWT bearer flow signs with RS256, choose one of %s", keyType, strings.Join(keyTypeNames(true), ", "))
			}
			if storePath == "" {
				return usagef("--keystore FILE is required: the JKS or PKCS#12 keystore for the signing key")
			}
			if days <= 0 {
				return usagef("--days must be at least 1")
			}
			format, err := out.format(storePath, false)
			if err != nil {
				return err
			}
			if certPath == "" {
				certPath = withExt(storePath, ".crt")
			}
			if err := refuseExisting(out.force, storePath, certPath); err != nil {
				return err
			}
			opts, err := out.options(storePath, format, e)
			if err != nil {
				return err
			}
			key, err := certgen.GenerateKey(kt)
			if err != nil {
				return err
			}
			cert, err := certgen.NewJWTCertificate(key, name, time.Duration(days)*24*time.Hour)
			if err != nil {
				return err
			}
			warnings, err := certgen.CheckIdentity(key, []*x509.Certificate{cert}, certgen.CheckOptions{Purpose: certgen.PurposeJWT})
			if err != nil {
				return err
			}
			warn(e, warnings)
			id, err := keystore.NewIdentity(key, []*x509.Certificate{cert})
			if err != nil {
				return err
			}
			if err := keystore.WriteFile(storePath, id, opts); err != nil {
				return err
			}
			if err := writeSecret(certPath, certgen.CertificatePEM(cert), out.force); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, `Wrote the JWT signing key and its self-signed certificate to %s (%s, alias %q):
  %s.
Wrote the certificate to upload to %s.

Next:
  1. Upload %s to the app that logs in with the JWT bearer flow: for a connected app,
     Enable OAuth Settings → Use digital signatures; for an external client app, its
     OAuth settings → Enable JWT Bearer Flow.
  2. Point the integration at %s (SF_JWT_KEYSTORE=%s; MuleSoft: the connector's keystore).
`, storePath, format, storedAlias(opts), describe(id), certPath, certPath, storePath, storePath)
			return nil
		}),
	}
	f := cmd.Flags()
	subj.register(f)
	f.StringVar(&keyType, "key-type", string(certgen.RSA2048), "the new key's `TYPE`: "+strings.Join(keyTypeNames(true), ", "))
	f.IntVar(&days, "days", int(keydefaults.JWTValidity/(24*time.Hour)), "the certificate's validity in `DAYS`")
	f.StringVar(&storePath, "keystore", "", "write the key and certificate to this JKS or PKCS#12 `FILE` (required)")
	f.StringVar(&certPath, "cert", "", "write the certificate to upload to this PEM `FILE` (default: the keystore's name with .crt)")
	out.register(f, keydefaults.Alias, false)
	out.completions(cmd, false)
	markRequired(cmd, "cn", "keystore")
	_ = cmd.RegisterFlagCompletionFunc("key-type", completeWords(keyTypeNames(true)...))
	return cmd
}
