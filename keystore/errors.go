package keystore

import (
	"errors"
	"strings"
)

// Sentinel errors, matched with errors.Is against any error this package returns.
var (
	// ErrWrongPassword: the store's integrity check or a key's decryption failed
	// with the password given.
	ErrWrongPassword = errors.New("wrong password")
	// ErrUnreadable: the file cannot be read (missing, no permission, too large).
	ErrUnreadable = errors.New("cannot read the keystore file")
	// ErrUnknownFormat: the bytes are none of JKS, JCEKS, PKCS#12 or PEM.
	ErrUnknownFormat = errors.New("unknown keystore format")
	// ErrUnsupported: the format is known but this content of it is not supported.
	ErrUnsupported = errors.New("unsupported keystore content")
	// ErrCorrupt: the data is damaged or truncated.
	ErrCorrupt = errors.New("corrupt or truncated keystore")
	// ErrAliasNotFound: no private-key entry has the alias asked for.
	ErrAliasNotFound = errors.New("alias not found")
	// ErrAmbiguousAlias: the store holds several private keys and no alias was chosen.
	ErrAmbiguousAlias = errors.New("several private keys and no alias chosen")
	// ErrNoPrivateKey: the store holds certificates only.
	ErrNoPrivateKey = errors.New("no private key")
	// ErrKeyMismatch: the private key does not belong to the certificate.
	ErrKeyMismatch = errors.New("private key does not match the certificate")
	// ErrExpired: the certificate is outside its validity period.
	ErrExpired = errors.New("certificate not valid at this time")
)

// Error describes why a keystore could not be used. Kind is one of the sentinel
// errors above; errors.Is matches it, and errors.As finds the *Error itself.
// An Error never holds a password or key material.
type Error struct {
	Source string // the file name, or Options.Name for bytes
	Format Format // the detected format; FormatUnknown when detection failed
	Alias  string // the entry concerned, when there is one
	Kind   error  // one of the sentinel errors
	Detail string // what exactly was wrong
	Hint   string // how to fix it, when known
	Err    error  // the underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("keystore")
	if e.Source != "" {
		b.WriteString(" ")
		b.WriteString(e.Source)
	}
	if e.Format != FormatUnknown {
		b.WriteString(" (")
		b.WriteString(e.Format.String())
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
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
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the sentinel kind and the underlying cause.
func (e *Error) Unwrap() []error {
	errs := []error{e.Kind}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// failure is the parsers' shorthand for an *Error whose source is filled in later.
func failure(kind error, detail, hint string, cause error) *Error {
	return &Error{Kind: kind, Detail: detail, Hint: hint, Err: cause}
}

const (
	hintStorePassword  = "check the keystore password; keytool -list -keystore FILE tells whether it is right"
	hintKeyPassword    = "the keystore password was accepted but the key's was not: give the key password, which defaults to the keystore password"
	hintUncheckedStore = "check the password: this file has no integrity check (MAC), so the key's decryption is the only password check; give the key password if it differs from the keystore's"
	hintFormats        = "expected JKS, JCEKS, PKCS#12 (.p12/.pfx) or PEM"
)
