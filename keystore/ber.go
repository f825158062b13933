package keystore

import (
	"errors"
)

// BER normalisation. NSS (Firefox's pk12util) and some Java versions write
// PKCS#12 in BER: indefinite lengths, non-minimal lengths and OCTET STRINGs split
// into chunks. encoding/asn1 reads DER only, so the file is rewritten as DER first.

// maxBERDepth bounds nesting; real PKCS#12 files nest about a dozen levels.
const maxBERDepth = 48

var errBER = errors.New("malformed BER")

// berToDER rewrites one BER element (and nothing after it is allowed) as DER.
func berToDER(data []byte) ([]byte, error) {
	out, rest, err := berElement(data, 0, nil)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("data after the PKCS#12 structure")
	}
	return out, nil
}

// berElement reads one element from data, appends its DER to out and returns the
// rest of data.
func berElement(data []byte, depth int, out []byte) ([]byte, []byte, error) {
	if depth > maxBERDepth {
		return nil, nil, errors.New("nested too deeply")
	}
	if len(data) < 2 {
		return nil, nil, errBER
	}
	tag := data[0]
	if tag&0x1f == 0x1f { // multi-byte tags appear nowhere in PKCS#12
		return nil, nil, errors.New("unsupported high tag number")
	}
	constructed := tag&0x20 != 0
	lb := data[1]
	data = data[2:]
	indefinite := false
	var length int
	switch {
	case lb < 0x80:
		length = int(lb)
	case lb == 0x80:
		if !constructed {
			return nil, nil, errBER
		}
		indefinite = true
	default:
		n := int(lb & 0x7f)
		if n > 4 || len(data) < n {
			return nil, nil, errBER
		}
		for _, b := range data[:n] {
			length = length<<8 | int(b)
		}
		data = data[n:]
	}
	if length < 0 || length > len(data) {
		return nil, nil, errBER
	}
	if !constructed {
		return appendDER(out, tag, data[:length]), data[length:], nil
	}
	var body []byte
	var content []byte
	if indefinite {
		content = data
	} else {
		content = data[:length]
	}
	// A constructed OCTET STRING is the concatenation of its chunks.
	merge := tag == 0x24
	for {
		if indefinite {
			if len(content) < 2 {
				return nil, nil, errBER
			}
			if content[0] == 0 && content[1] == 0 {
				content = content[2:]
				break
			}
		} else if len(content) == 0 {
			break
		}
		start := len(body)
		var err error
		body, content, err = berElement(content, depth+1, body)
		if err != nil {
			return nil, nil, err
		}
		if merge {
			// Keep only the chunk's content: re-parse the DER just appended.
			chunk := body[start:]
			if chunk[0] != 0x04 {
				return nil, nil, errBER
			}
			_, payload := derHeader(chunk)
			body = append(body[:start], payload...)
		}
	}
	rest := content
	if !indefinite {
		rest = data[length:]
	}
	if merge {
		tag = 0x04
	}
	return appendDER(out, tag, body), rest, nil
}

// derHeader splits a DER element this file wrote into header length and content.
func derHeader(el []byte) (int, []byte) {
	if el[1] < 0x80 {
		return 2, el[2:]
	}
	n := int(el[1] & 0x7f)
	return 2 + n, el[2+n:]
}

func appendDER(out []byte, tag byte, content []byte) []byte {
	out = append(out, tag)
	n := len(content)
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		out = append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, content...)
}
