package keystore

import (
	"errors"
	"strings"
)

// Sentinel errors, matched with errors.Is against any error this package returns.
var (
	// ErrWrongPassword: the store's integrity check or a key's decryption failed
	// with the password given.
	ErrWrongPassword = errors.New("keystore: wrong password")
	// ErrUnreadable: the file cannot be read (missing, no permission, too large).
	ErrUnreadable = errors.New("keystore: cannot read the keystore file")
	// ErrUnknownFormat: the bytes are none of JKS, JCEKS, PKCS#12 or PEM.
	ErrUnknownFormat = errors.New("keystore: unknown keystore format")
	// ErrUnsupported: the format is known but this content of it is not supported.
	ErrUnsupported = errors.New("keystore: unsupported keystore content")
	// ErrCorrupt: the data is damaged or truncated.
	ErrCorrupt = errors.New("keystore: corrupt or truncated keystore")
	// ErrAliasNotFound: no private-key entry has the alias asked for.
	ErrAliasNotFound = errors.New("keystore: alias not found")
	// ErrAmbiguousAlias: the store holds several private keys and no alias was chosen.
	ErrAmbiguousAlias = errors.New("keystore: several private keys and no alias chosen")
	// ErrNoPrivateKey: the store holds certificates only.
	ErrNoPrivateKey = errors.New("keystore: no private key")
	// ErrKeyMismatch: the private key does not belong to the certificate.
	ErrKeyMismatch = errors.New("keystore: private key does not match the certificate")
	// ErrExpired: the certificate is outside its validity period.
	ErrExpired = errors.New("keystore: certificate not valid at this time")
)

// Errors of the write side (Encode, WriteFile), matched with errors.Is like those above.
var (
	// ErrFileExists: WriteFile was asked to write over an existing file.
	ErrFileExists = errors.New("keystore: file already exists")
	// ErrBadWriteOptions: the WriteOptions cannot produce a usable keystore
	// (missing or too short password, a key password where the format has none,
	// an alias Java cannot store, a format this package does not write).
	ErrBadWriteOptions = errors.New("keystore: cannot write the keystore with these options")
	// ErrChainOrder: a certificate of the chain is not issued by the next one.
	ErrChainOrder = errors.New("keystore: certificate chain out of order")
	// ErrUnwritable: the file cannot be written (no such directory, no permission).
	ErrUnwritable = errors.New("keystore: cannot write the keystore file")
)

// Error describes why a keystore could not be used or written. Kind is one of
// the sentinel errors above; errors.Is matches it, and errors.As finds the
// *Error itself. An Error never holds a password or key material.
type Error struct {
	Source string // the file name, or Options.Name for bytes
	Format Format // the detected format; FormatUnknown when detection failed
	Alias  string // the entry concerned, when there is one
	Kind   error  // one of the sentinel errors
	Detail string // what exactly was wrong
	Err    error  // the underlying cause, if any
	fix    string // how to mend it, when known
}

// Error says what was wrong: "keystore: SOURCE (FORMAT): KIND for alias
// "ALIAS": DETAIL: CAUSE", each part when known. Fix says how to mend it.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("keystore: ")
	if e.Source != "" {
		b.WriteString(e.Source)
		if e.Format != FormatUnknown {
			b.WriteString(" (")
			b.WriteString(e.Format.String())
			b.WriteString(")")
		}
		b.WriteString(": ")
	} else if e.Format != FormatUnknown {
		b.WriteString(e.Format.String())
		b.WriteString(": ")
	}
	b.WriteString(strings.TrimPrefix(e.Kind.Error(), "keystore: "))
	if e.Alias != "" {
		b.WriteString(" for alias \"")
		b.WriteString(e.Alias)
		b.WriteString("\"")
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Fix says how to mend the problem, or "" when there is no advice beyond
// the error itself.
func (e *Error) Fix() string { return e.fix }

// Unwrap returns the sentinel kind and the underlying cause.
func (e *Error) Unwrap() []error {
	errs := []error{e.Kind}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// failure is the parsers' shorthand for an *Error whose source is filled in later.
func failure(kind error, detail, fix string, cause error) *Error {
	return &Error{Kind: kind, Detail: detail, fix: fix, Err: cause}
}

const (
	hintStorePassword  = "check the keystore password; keytool -list -keystore FILE tells whether it is right"
	hintKeyPassword    = "the keystore password was accepted but the key's was not: give the key password, which defaults to the keystore password"
	hintUncheckedStore = "check the password: this file has no integrity check (MAC), so the key's decryption is the only password check; give the key password if it differs from the keystore's"
	hintFormats        = "give a JKS, JCEKS, PKCS#12 (.p12/.pfx) or PEM keystore"
)
