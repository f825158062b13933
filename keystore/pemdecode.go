package keystore

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
)

// The PEM files LoadFile reads are decoded in the buffer they were read into:
// the DER of each block overwrites its own base64, which is longer, so a
// block costs no allocation where pem.Decode makes a Block, a header map, a
// type string and a DER buffer. Only a block pem.Decode would read at the same
// place, with no headers, is decoded so; for anything else (headers, an empty
// block, text pem.Decode skips or refuses) pem.Decode reads the rest of the
// text as it always has. FuzzDecodePEMInPlace holds the two to the same
// answers.

var (
	pemBegin = []byte("-----BEGIN ")
	pemEnd   = []byte("\n-----END ")
	pemDash  = []byte("-----")
)

// pemBlock is one block of PEM text: its type and its DER bytes.
type pemBlock struct {
	typ  string
	der  []byte
	full *pem.Block // set when pem.Decode read the block (headers matter to decryptPEMKey)
}

// nextPEMBlock reads the next block of data, decoding it in place when
// inPlace allows it (data is a buffer of the keystore's own), else with
// pem.Decode. ok is false when no block is left.
func nextPEMBlock(data []byte, inPlace bool) (b pemBlock, rest []byte, ok bool) {
	if inPlace {
		if typ, der, rest, ok := decodePEMInPlace(data); ok {
			return pemBlock{typ: pemType(typ), der: der}, rest, true
		}
	}
	p, rest := pem.Decode(data)
	if p == nil {
		return pemBlock{}, rest, false
	}
	return pemBlock{typ: p.Type, der: p.Bytes, full: p}, rest, true
}

// pemType returns the type of a block as a string, without allocating for
// the types a keystore holds.
func pemType(typ []byte) string {
	switch string(typ) {
	case "CERTIFICATE":
		return "CERTIFICATE"
	case "PRIVATE KEY":
		return "PRIVATE KEY"
	case "RSA PRIVATE KEY":
		return "RSA PRIVATE KEY"
	case "EC PRIVATE KEY":
		return "EC PRIVATE KEY"
	case "ENCRYPTED PRIVATE KEY":
		return "ENCRYPTED PRIVATE KEY"
	}
	return string(typ)
}

// decodePEMInPlace reads the block pem.Decode(data) would return, when it has
// no headers and is not empty, writing its DER over its base64 in data. It
// returns what pem.Decode would: the type, the bytes and the rest; ok is
// false, with data untouched, for any block it leaves to pem.Decode.
func decodePEMInPlace(data []byte) (typ, der, rest []byte, ok bool) {
	// As pem.Decode: the first END line, and the last BEGIN line before it.
	end := bytes.Index(data, pemEnd)
	if end < 0 {
		return nil, nil, nil, false
	}
	begin := bytes.LastIndex(data[:end], pemBegin)
	if begin < 0 || begin > 0 && data[begin-1] != '\n' {
		return nil, nil, nil, false
	}
	typeLine, bodyStart := pemLine(data, begin+len(pemBegin))
	if !bytes.HasSuffix(typeLine, pemDash) || bodyStart > end {
		return nil, nil, nil, false // no type line, or an empty block
	}
	typ = typeLine[:len(typeLine)-len(pemDash)]
	if first, _ := pemLine(data, bodyStart); bytes.IndexByte(first, ':') >= 0 {
		return nil, nil, nil, false // headers
	}
	trailer := data[end+len(pemEnd):]
	if len(trailer) < len(typ)+len(pemDash) || !bytes.HasPrefix(trailer, typ) || !bytes.HasPrefix(trailer[len(typ):], pemDash) {
		return nil, nil, nil, false
	}
	endLine, after := pemLine(trailer, len(typ)+len(pemDash))
	if len(endLine) != 0 {
		return nil, nil, nil, false
	}
	body := data[bodyStart:end]
	if !validBase64(body) {
		return nil, nil, nil, false
	}
	n := decodeBase64InPlace(body)
	return typ, body[:n:n], trailer[after:], true
}

// pemLine returns the line of data starting at i, without its line end and
// trailing spaces and tabs (as pem's getLine), and where the next one starts.
func pemLine(data []byte, i int) (line []byte, next int) {
	j := bytes.IndexByte(data[i:], '\n')
	if j < 0 {
		line, next = data[i:], len(data)
	} else {
		line, next = data[i:i+j], i+j+1
		line = bytes.TrimSuffix(line, []byte{'\r'})
	}
	return bytes.TrimRight(line, " \t"), next
}

// base64Skipped are what PEM base64 may hold besides its alphabet: pem.Decode
// removes spaces and tabs, and base64 ignores line ends.
func base64Skipped(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func base64Letter(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}

// validBase64 reports whether base64.StdEncoding decodes body (without its
// spaces and tabs) without error: letters in whole quanta of four, the last
// one padded with one or two '=' where it is short.
func validBase64(body []byte) bool {
	n, pad := 0, 0
	for _, c := range body {
		switch {
		case base64Skipped(c):
			continue
		case c == '=':
			if pad == 0 && n%4 < 2 {
				return false // padding where a letter must be
			}
			pad++
		case pad > 0 || !base64Letter(c):
			return false // a letter after the padding, or not a letter
		}
		n++
	}
	return n > 0 && n%4 == 0 && pad <= 2
}

// decodeBase64InPlace decodes body, which validBase64 accepted, over itself
// and returns the DER's length. The letters go through a buffer on the stack
// before their bytes are written, and every write lands behind what has been
// read (three bytes for four letters at least), so no letter is overwritten
// before it is read.
func decodeBase64InPlace(body []byte) int {
	var chunk [256]byte // a multiple of four: padding ends the last chunk only
	w, k := 0, 0
	for _, c := range body {
		if base64Skipped(c) {
			continue
		}
		chunk[k] = c
		if k++; k == len(chunk) {
			n, _ := base64.StdEncoding.Decode(body[w:], chunk[:])
			w, k = w+n, 0
		}
	}
	if k > 0 {
		n, _ := base64.StdEncoding.Decode(body[w:], chunk[:k])
		w += n
	}
	return w
}
