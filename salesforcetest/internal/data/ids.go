package data

import (
	"strings"
)

// base62 is the alphabet of Salesforce record ids.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// idSuffixChars maps a 5-bit value to a character of the 18-character id's
// case-safe suffix.
const idSuffixChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// idSuffix computes the 3-character suffix that turns a case-sensitive
// 15-character id into the case-insensitive 18-character form: for each block
// of 5 characters, a bit per upper-case letter (the first character is the
// lowest bit), read as an index into A–Z0–5. (Object Reference for the
// Salesforce Platform, "Field Types: ID"; the algorithm is the one Salesforce's
// CASESAFEID formula function implements.)
func idSuffix(id15 string) string {
	var b strings.Builder
	for block := range 3 {
		n := 0
		for i := range 5 {
			c := id15[block*5+i]
			if c >= 'A' && c <= 'Z' {
				n |= 1 << i
			}
		}
		b.WriteByte(idSuffixChars[n])
	}
	return b.String()
}

// validID15 reports whether s is 15 base-62 characters.
func validID15(s string) bool {
	if len(s) != 15 {
		return false
	}
	for i := range len(s) {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	return true
}

// NormalizeID turns a 15- or 18-character id into its 18-character form, or
// returns false when s is not an id. An 18-character id must carry the suffix
// its first 15 characters give; its case is then irrelevant only in the suffix.
func NormalizeID(s string) (string, bool) {
	switch len(s) {
	case 15:
		if !validID15(s) {
			return "", false
		}
		return s + idSuffix(s), true
	case 18:
		if !validID15(s[:15]) || !strings.EqualFold(s[15:], idSuffix(s[:15])) {
			return "", false
		}
		return s[:15] + idSuffix(s[:15]), true
	}
	return "", false
}

// NewID builds the 18-character id of the n-th record with the given key
// prefix: the 3-character prefix, a 2-character instance ("8d"), a reserved
// "0", then n in 9 base-62 digits, and the suffix.
func NewID(prefix string, n int64) string {
	digits := make([]byte, 9)
	for i := 8; i >= 0; i-- {
		digits[i] = base62[n%62]
		n /= 62
	}
	id15 := prefix + "8d0" + string(digits)
	return id15 + idSuffix(id15)
}
