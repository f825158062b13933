// Package keystore loads a private key and its certificate chain from the keystores
// that Java and OpenSSL users hold: JKS, JCEKS, PKCS#12 (.p12/.pfx) and PEM. The
// format is recognised from the bytes, never from the file name, because Java 9+
// keytool writes PKCS#12 even into files named .jks.
//
// Load and LoadFile return an Identity ready for a TLS handshake or for signing;
// Inspect and InspectFile report every entry with the warnings that matter for
// Salesforce mutual authentication. Errors are *Error values that match the
// sentinel errors with errors.Is and never contain a password or key material.
package keystore

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// maxFileSize bounds what LoadFile reads; real keystores are a few kilobytes.
const maxFileSize = 16 << 20

// Options says how to open a keystore. The zero value opens a store with an empty
// password and takes its only private key.
type Options struct {
	// Password opens the store (JKS, JCEKS and PKCS#12 integrity check) and,
	// unless KeyPassword is set, its keys.
	Password Secret
	// KeyPassword decrypts the private key where it differs from Password (JKS,
	// JCEKS, encrypted PEM keys, and PKCS#12 files written through the Java
	// KeyStore API, whose key bags may have a password of their own).
	KeyPassword Secret
	// Alias chooses the private-key entry, case-insensitively. Empty means the
	// store's only private key.
	Alias string
	// KeyFile names a PEM file holding the private key when the certificates are
	// in another PEM file. LoadFile and Load both read it.
	KeyFile string
	// Name labels the source in errors when Load gets bytes; LoadFile uses the path.
	Name string
	// Now is the clock for expiry warnings and checks; nil means time.Now.
	Now func() time.Time `json:"-"`
}

func (o Options) keyPassword() Secret {
	if o.KeyPassword != "" {
		return o.KeyPassword
	}
	return o.Password
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// EntryKind tells a private-key entry from a trusted-certificate entry.
type EntryKind string

// Entry kinds, as the sfmtls tool prints them.
const (
	PrivateKeyEntry  EntryKind = "private-key"
	TrustedCertEntry EntryKind = "trusted-cert"
)

// entry is one store entry as a parser found it. A private-key entry decrypts its
// key only when asked, so that listing a store needs no key password.
type entry struct {
	alias   string
	kind    EntryKind
	certs   []*x509.Certificate // as stored: the entry's certificate(s), leaf first where the format says so
	decrypt func(keyPassword Secret) (any, error)
	// unusable is a trusted certificate crypto/x509 refuses, listed all the same.
	unusable *unusableCert
}

// store is a parsed keystore.
type store struct {
	format  Format
	entries []entry
	pool    []*x509.Certificate // certificates outside entries (PKCS#12 CA bags, extra PEM certificates)
	// warnings name what was skipped because it cannot be used here (secret keys,
	// certificates the platform cannot parse); the rest of the store still loads.
	warnings []string
	// integrity describes the store's integrity check (Report.Integrity).
	integrity string
}

// LoadFile reads the keystore at path and returns the identity chosen by opts.
func LoadFile(path string, opts Options) (*Identity, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	opts.Name = path
	return Load(data, opts)
}

// Load reads a keystore from data and returns the identity chosen by opts.
func Load(data []byte, opts Options) (*Identity, error) {
	s, err := parse(data, opts)
	if err != nil {
		return nil, err
	}
	id, err := s.identity(opts)
	if err != nil {
		return nil, withSource(err, opts.Name, s.format)
	}
	return id, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Source: path, Kind: ErrUnreadable, Err: err}
	}
	defer f.Close()
	// Sized from the file's length, as os.ReadFile does, rather than grown by
	// io.ReadAll: at cold start it reads four small files. The length comes
	// from seeking to the end, which unlike Stat allocates nothing. The limit
	// still holds for a file that grows, or cannot seek (a pipe).
	size := 512
	if end, err := f.Seek(0, io.SeekEnd); err == nil {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, &Error{Source: path, Kind: ErrUnreadable, Err: err}
		}
		if end > maxFileSize {
			return nil, tooLarge(path)
		}
		if end > 0 {
			size = int(end) + 1 // one more byte, to read EOF without growing
		}
	}
	data, err := readAtMost(f, make([]byte, 0, size), maxFileSize+1)
	if err != nil {
		return nil, &Error{Source: path, Kind: ErrUnreadable, Err: err}
	}
	if len(data) > maxFileSize {
		return nil, tooLarge(path)
	}
	return data, nil
}

func tooLarge(path string) error {
	return &Error{Source: path, Kind: ErrUnreadable, Detail: fmt.Sprintf("larger than %d MiB, too large for a keystore", maxFileSize>>20)}
}

// readAtMost appends to buf what r holds, up to limit bytes.
func readAtMost(r io.Reader, buf []byte, limit int) ([]byte, error) {
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), limit-len(buf)))
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// parse detects the format and reads the store, with errors naming the source.
func parse(data []byte, opts Options) (*store, error) {
	format := detectFormat(data)
	if opts.KeyFile != "" {
		if format != FormatPEM {
			return nil, withSource(failure(ErrUnsupported, "a separate key file goes with PEM certificates only", "", nil), opts.Name, format)
		}
		key, err := readFile(opts.KeyFile)
		if err != nil {
			return nil, err
		}
		s, err := parsePEM(data, key)
		if err != nil {
			return nil, withSource(err, opts.Name, format)
		}
		s.format = format
		return s, nil
	}
	var s *store
	var err error
	switch format {
	case FormatJKS:
		s, err = parseJKS(data, opts.Password)
	case FormatJCEKS:
		s, err = parseJCEKS(data, opts.Password, maxIterations)
	case FormatPKCS12:
		s, err = parsePKCS12(data, opts.Password, maxIterations)
	case FormatPEM:
		s, err = parsePEM(data)
	default:
		err = unknownFormat(data)
	}
	if err != nil {
		return nil, withSource(err, opts.Name, format)
	}
	s.format = format
	return s, nil
}

func withSource(err error, source string, format Format) error {
	if e, ok := err.(*Error); ok {
		if e.Source == "" {
			e.Source = source
		}
		if e.Format == FormatUnknown {
			e.Format = format
		}
	}
	return err
}

// privateKeyAliases lists the aliases of the private-key entries.
func (s *store) privateKeyAliases() []string {
	var aliases []string
	for _, e := range s.entries {
		if e.kind == PrivateKeyEntry {
			aliases = append(aliases, e.alias)
		}
	}
	return aliases
}

// choose finds the private-key entry named by alias, or the only one.
func (s *store) choose(alias string) (*entry, error) {
	aliases := s.privateKeyAliases()
	if len(aliases) == 0 {
		return nil, failure(ErrNoPrivateKey, "the store holds certificates only",
			"a client identity needs a private-key entry: import the key with its certificate", nil)
	}
	if alias == "" {
		if len(aliases) > 1 {
			return nil, failure(ErrAmbiguousAlias, "private keys "+quoteList(aliases), "choose one of these aliases", nil)
		}
		for i := range s.entries {
			if s.entries[i].kind == PrivateKeyEntry {
				return &s.entries[i], nil
			}
		}
	}
	for i := range s.entries {
		e := &s.entries[i]
		if e.kind == PrivateKeyEntry && strings.EqualFold(e.alias, alias) {
			return e, nil
		}
	}
	detail, fix := "private-key aliases in this store: "+quoteList(aliases), "choose one of these aliases"
	if s.format == FormatPEM {
		detail, fix = "PEM files have no aliases", "leave the alias empty"
	}
	for _, e := range s.entries {
		if e.kind == TrustedCertEntry && strings.EqualFold(e.alias, alias) {
			detail = "it is a trusted-certificate entry with no private key; " + detail
		}
	}
	return nil, &Error{Kind: ErrAliasNotFound, Alias: alias, Detail: detail, fix: fix}
}

func firstCert(lists ...[]*x509.Certificate) *x509.Certificate {
	for _, l := range lists {
		if len(l) > 0 {
			return l[0]
		}
	}
	return nil
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// identity decrypts the chosen entry's key and checks it against its certificate.
func (s *store) identity(opts Options) (*Identity, error) {
	e, err := s.choose(opts.Alias)
	if err != nil {
		return nil, err
	}
	return s.identityOf(e, opts)
}

// identityOf decrypts one entry's key and checks it against its certificate.
func (s *store) identityOf(e *entry, opts Options) (*Identity, error) {
	key, err := e.decrypt(opts.keyPassword())
	if err != nil {
		if ke, ok := err.(*Error); ok && ke.Alias == "" {
			ke.Alias = e.alias
		}
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, &Error{Kind: ErrUnsupported, Alias: e.alias, Detail: fmt.Sprintf("private key of type %T cannot sign", key)}
	}
	leaf := leafFor(signer, e.certs, s.pool)
	if leaf == nil {
		if len(e.certs) == 0 && len(s.pool) == 0 && s.format != FormatPEM {
			// Java requires a chain on every key entry; a store without one was damaged or hand-made.
			return nil, &Error{Kind: ErrCorrupt, Alias: e.alias, Detail: "the private-key entry holds no certificate",
				fix: "import the key together with its certificate chain: openssl pkcs12 -export -inkey KEY -in CHAIN.pem, then keytool -importkeystore from that file"}
		}
		if len(e.certs) == 0 && len(s.pool) == 0 {
			return nil, &Error{Kind: ErrKeyMismatch, Alias: e.alias, Detail: "there is no certificate for the key",
				fix: "give the certificate file and name this key file in KeyFile (sfmtls: --key-file)"}
		}
		return nil, &Error{Kind: ErrKeyMismatch, Alias: e.alias, Detail: fmt.Sprintf("the key does not belong to %q", firstCert(e.certs, s.pool).Subject.String()),
			fix: "export the key together with its own certificate"}
	}
	chain := orderChain(leaf, append(slices.Clip(e.certs), s.pool...))
	return newIdentity(signer, chain, e.alias, s.format), nil
}
