package keystore

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
)

// Format is a keystore file format.
type Format int

// The formats this package reads.
const (
	FormatUnknown Format = iota
	FormatJKS            // Sun's Java KeyStore, magic FEEDFEED
	FormatJCEKS          // SunJCE's keystore, magic CECECECE
	FormatPKCS12         // PKCS#12 / PFX, DER
	FormatPEM            // PEM text: certificates and a private key
)

// String returns the format's name as the sfmtls tool prints it: JKS, JCEKS, PKCS12 or PEM.
func (f Format) String() string {
	switch f {
	case FormatJKS:
		return "JKS"
	case FormatJCEKS:
		return "JCEKS"
	case FormatPKCS12:
		return "PKCS12"
	case FormatPEM:
		return "PEM"
	}
	return "unknown"
}

// MarshalText writes the format's name.
func (f Format) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

const (
	magicJKS   = 0xFEEDFEED
	magicJCEKS = 0xCECECECE
)

// oidDataPrefix is the DER of OID 1.2.840.113549.1.7 (PKCS#7 content types),
// which a PFX's authSafe names right after its version.
var oidPKCS7 = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07}

// detectFormat recognises a keystore's format from its first bytes, whatever the
// file is called. It reads only a header, so a truncated file is still recognised
// (and then fails to load as corrupt rather than as unknown).
func detectFormat(data []byte) Format {
	if len(data) >= 4 {
		switch binary.BigEndian.Uint32(data) {
		case magicJKS:
			return FormatJKS
		case magicJCEKS:
			return FormatJCEKS
		}
	}
	if looksLikePFX(data) {
		return FormatPKCS12
	}
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		return FormatPEM
	}
	return FormatUnknown
}

// looksLikePFX matches PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo }
// on the header bytes alone.
func looksLikePFX(data []byte) bool {
	rest, ok := skipDERHeader(data, 0x30)
	if !ok || len(rest) < 3 || rest[0] != 0x02 || rest[1] != 0x01 || rest[2] != 0x03 {
		return false
	}
	rest, ok = skipDERHeader(rest[3:], 0x30)
	return ok && bytes.HasPrefix(rest, oidPKCS7)
}

// skipDERHeader checks a DER (or BER) tag and skips its length octets; the content may be
// shorter than the length says.
func skipDERHeader(data []byte, tag byte) ([]byte, bool) {
	if len(data) < 2 || data[0] != tag {
		return nil, false
	}
	n := data[1]
	if n < 0x80 || n == 0x80 && tag&0x20 != 0 { // 0x80: BER indefinite length (NSS, Firefox)
		return data[2:], true
	}
	octets := int(n & 0x7f)
	if octets == 0 || octets > 4 || len(data) < 2+octets {
		return nil, false
	}
	return data[2+octets:], true
}

// unknownFormat explains what the bytes are when they are no keystore.
func unknownFormat(data []byte) *Error {
	if len(data) == 0 {
		return failure(ErrCorrupt, "the file is empty", hintFormats, nil)
	}
	if _, err := x509.ParseCertificate(data); err == nil {
		return failure(ErrUnsupported, "this is a single DER certificate with no private key",
			"a client identity needs the private key too: use the keystore or PKCS#12 file that holds it", nil)
	}
	if looksLikeBKS(data) {
		return failure(ErrUnsupported, "this looks like a Bouncy Castle BKS (or UBER) keystore, which is not supported",
			"convert it with keytool -importkeystore -srckeystore FILE -srcstoretype BKS -providerpath bcprov.jar "+
				"-provider org.bouncycastle.jce.provider.BouncyCastleProvider -destkeystore FILE.p12 -deststoretype PKCS12", nil)
	}
	return failure(ErrUnknownFormat, "", hintFormats, nil)
}

// looksLikeBKS matches the header Bouncy Castle's BcKeyStoreSpi writes for BKS
// and UBER stores: version (1 or 2), a 20-byte salt with its length, and an
// iteration count (1024 to 2047 as written; any plausible count is accepted).
func looksLikeBKS(data []byte) bool {
	if len(data) < 8+20+4 {
		return false
	}
	version := binary.BigEndian.Uint32(data)
	saltLen := binary.BigEndian.Uint32(data[4:])
	iterations := binary.BigEndian.Uint32(data[8+20:])
	return (version == 1 || version == 2) && saltLen == 20 && iterations >= 1 && iterations <= 1<<20
}
