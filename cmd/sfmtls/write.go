package main

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sfmtls/sfmtls/internal/atomicfile"
	"github.com/sfmtls/sfmtls/internal/keydefaults"
	"github.com/sfmtls/sfmtls/keystore"
)

// subjectFlags are the distinguished name of a new key's certificate or CSR.
type subjectFlags struct {
	cn, org, orgUnit, locality, state, country string
}

func (f *subjectFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.cn, "cn", "", "the subject's common `NAME` (required), e.g. the integration's host or user name")
	fs.StringVar(&f.org, "org", "", "the subject's organization `O`")
	fs.StringVar(&f.orgUnit, "org-unit", "", "the subject's organizational unit `OU`")
	fs.StringVar(&f.locality, "locality", "", "the subject's city `L`")
	fs.StringVar(&f.state, "state", "", "the subject's state or province `ST`")
	fs.StringVar(&f.country, "country", "", "the subject's two-letter country `CODE`, e.g. US")
}

func (f *subjectFlags) name() (pkix.Name, error) {
	if strings.TrimSpace(f.cn) == "" {
		return pkix.Name{}, usagef("--cn is required: the subject's common name")
	}
	n := pkix.Name{CommonName: f.cn}
	for _, v := range []struct {
		dst *[]string
		val string
	}{{&n.Organization, f.org}, {&n.OrganizationalUnit, f.orgUnit}, {&n.Locality, f.locality}, {&n.Province, f.state}, {&n.Country, f.country}} {
		if v.val != "" {
			*v.dst = []string{v.val}
		}
	}
	return n, nil
}

// outFlags say how a keystore is written: format, alias and passwords.
type outFlags struct {
	storeType, alias, passwordFile, keyPasswordFile string
	iterations                                      int
	force                                           bool
}

// register adds the flags; keyPEM says whether a PEM key can be written (and so
// --pbkdf2-iterations applies).
func (o *outFlags) register(fs *pflag.FlagSet, defaultAlias string, keyPEM bool) {
	types, exts := "jks or pkcs12", ".jks, .p12/.pfx"
	if keyPEM {
		types, exts = "jks, pkcs12 or pem", ".jks, .p12/.pfx, .pem"
	}
	fs.StringVar(&o.storeType, "store-type", "", "the keystore `TYPE`: "+types+" (default: from the file name: "+exts+")")
	fs.StringVar(&o.alias, "alias", defaultAlias, "the key entry's `ALIAS` in a JKS or PKCS#12 keystore")
	fs.StringVar(&o.passwordFile, "password-file", "", "read the password of the new keystore (or PEM key) from `FILE` (default: $SF_KEYSTORE_PASSWORD, else asked on a terminal)")
	fs.StringVar(&o.keyPasswordFile, "key-password-file", "", "JKS only: read a separate key password from `FILE` (default: $SF_KEY_PASSWORD, else the keystore password)")
	if keyPEM {
		fs.IntVar(&o.iterations, "pbkdf2-iterations", keydefaults.PKCS8Iterations, "PBKDF2 iteration `COUNT` for an encrypted PEM key")
	}
	fs.BoolVar(&o.force, "force", false, "replace files that exist")
}

func (o *outFlags) completions(cmd *cobra.Command, pem bool) {
	types := []string{"jks", "pkcs12"}
	if pem {
		types = append(types, "pem")
	}
	_ = cmd.RegisterFlagCompletionFunc("store-type", completeWords(types...))
}

// format decides the written format from --store-type or the file name.
func (o *outFlags) format(path string, allowPEM bool) (keystore.Format, error) {
	t := strings.ToLower(o.storeType)
	if t == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".jks":
			t = "jks"
		case ".p12", ".pfx":
			t = "pkcs12"
		case ".pem", ".key":
			t = "pem"
		default:
			return 0, usagef("cannot tell the keystore type from %q: add --store-type jks or pkcs12, or name the file .jks or .p12", path)
		}
	}
	switch t {
	case "jks":
		return keystore.FormatJKS, nil
	case "pkcs12", "p12", "pfx":
		return keystore.FormatPKCS12, nil
	case "pem":
		if allowPEM {
			return keystore.FormatPEM, nil
		}
	}
	return 0, usagef("--store-type %q: expected jks or pkcs12%s", o.storeType, map[bool]string{true: " or pem"}[allowPEM])
}

// sources are where the new keystore's passwords come from.
func (o *outFlags) sources(path string) (store, key secretSource) {
	return secretSource{flag: "--password-file", file: o.passwordFile, variable: "SF_KEYSTORE_PASSWORD", label: "New password for " + path + ": "},
		secretSource{flag: "--key-password-file", file: o.keyPasswordFile, variable: "SF_KEY_PASSWORD"}
}

// options reads the passwords and returns how to write path.
func (o *outFlags) options(path string, format keystore.Format, e *env) (keystore.WriteOptions, error) {
	storeSrc, keySrc := o.sources(path)
	store, err := storeSrc.required(e, path, true)
	if err != nil {
		return keystore.WriteOptions{}, err
	}
	if len([]rune(string(store))) < keydefaults.MinPasswordLen {
		return keystore.WriteOptions{}, fmt.Errorf("the password for %s is shorter than %d characters, keytool's minimum: %s",
			path, keydefaults.MinPasswordLen, storeSrc.where())
	}
	key, err := keySrc.read(e, false)
	if err != nil {
		return keystore.WriteOptions{}, err
	}
	if key != "" && format != keystore.FormatJKS {
		if o.keyPasswordFile != "" {
			return keystore.WriteOptions{}, usagef("--key-password-file is for JKS only: %s keeps the key under the keystore password", format)
		}
		key = "" // SF_KEY_PASSWORD left over from a JKS command does not apply here
	}
	return keystore.WriteOptions{
		Format: format, Alias: o.alias, Password: store, KeyPassword: key,
		KeyIterations: o.iterations, Overwrite: o.force,
	}, nil
}

// refuseExisting checks, before anything is written, that no file would be
// replaced without --force.
func refuseExisting(force bool, paths ...string) error {
	if force {
		return nil
	}
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			return errExists(p)
		}
	}
	return nil
}

func errExists(path string) error {
	return fmt.Errorf("%s already exists: choose another name, or add --force to replace it", path)
}

// writeSecret writes data (a key, a request, a password) to path with mode
// 0600, atomically; an existing file is replaced only with force.
func writeSecret(path string, data []byte, force bool) error {
	err := atomicfile.WriteSecret(path, data, force)
	if errors.Is(err, fs.ErrExist) {
		return errExists(path)
	}
	return err
}

// warn prints CheckIdentity's warnings on standard error.
func warn(e *env, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
}

// describe is one line about a written identity.
func describe(id *keystore.Identity) string {
	leaf := id.Leaf()
	return fmt.Sprintf("%s, %s, valid to %s, chain of %d", leaf.Subject, keyDescription(leaf),
		leaf.NotAfter.UTC().Format("2006-01-02"), len(id.Chain()))
}

func keyDescription(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d-bit key", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name + " key"
	}
	return c.PublicKeyAlgorithm.String() + " key"
}
