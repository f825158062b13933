package keystore

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"unicode/utf16"
)

// go-pkcs12 writes no friendlyName, so keytool would list the entry as "1" and
// the alias given would be lost. setPKCS12FriendlyName adds the attribute to the
// key bag (which sits in the unencrypted SafeContents) and recomputes the MAC
// with the PKCS#12 key derivation of RFC 7292 appendix B.

// The PFX structures of RFC 7292, as far as this file needs them. Content fields
// keep the [0] EXPLICIT wrapper as a RawValue so that re-encoding is exact.
type p12PFX struct {
	Version  int
	AuthSafe p12ContentInfo
	MacData  p12MacData
}

type p12ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue
}

type p12MacData struct {
	Mac struct {
		Algorithm algorithmIdentifier
		Digest    []byte
	}
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type p12SafeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue
	Attributes []p12Attribute `asn1:"set,optional"`
}

type p12Attribute struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

var (
	oidP12Data            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidP12ShroudedKeyBag  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidP12FriendlyName    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidSHA256             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	errUnexpectedPKCS12   = errors.New("go-pkcs12 wrote an unexpected layout")
	explicitContentHeader = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true}
)

// unwrapOctets returns the OCTET STRING inside a [0] EXPLICIT content.
func unwrapOctets(content asn1.RawValue) ([]byte, error) {
	var octets []byte
	if rest, err := asn1.Unmarshal(content.Bytes, &octets); err != nil || len(rest) > 0 {
		return nil, errUnexpectedPKCS12
	}
	return octets, nil
}

// wrapOctets is the inverse of unwrapOctets.
func wrapOctets(octets []byte) (asn1.RawValue, error) {
	inner, err := asn1.Marshal(octets)
	if err != nil {
		return asn1.RawValue{}, err
	}
	v := explicitContentHeader
	v.Bytes = inner
	return v, nil
}

func setPKCS12FriendlyName(pfxDER []byte, alias string, password Secret) ([]byte, error) {
	var pfx p12PFX
	if rest, err := asn1.Unmarshal(pfxDER, &pfx); err != nil || len(rest) > 0 || !pfx.AuthSafe.ContentType.Equal(oidP12Data) ||
		!pfx.MacData.Mac.Algorithm.Algorithm.Equal(oidSHA256) {
		return nil, errUnexpectedPKCS12
	}
	authSafeDER, err := unwrapOctets(pfx.AuthSafe.Content)
	if err != nil {
		return nil, err
	}
	var authSafe []p12ContentInfo
	if rest, err := asn1.Unmarshal(authSafeDER, &authSafe); err != nil || len(rest) > 0 {
		return nil, errUnexpectedPKCS12
	}
	name, err := friendlyNameAttribute(alias)
	if err != nil {
		return nil, err
	}
	named := false
	for i, ci := range authSafe {
		if !ci.ContentType.Equal(oidP12Data) {
			continue // the encrypted certificate bags
		}
		contentsDER, err := unwrapOctets(ci.Content)
		if err != nil {
			return nil, err
		}
		var bags []p12SafeBag
		if rest, err := asn1.Unmarshal(contentsDER, &bags); err != nil || len(rest) > 0 {
			return nil, errUnexpectedPKCS12
		}
		for j := range bags {
			if bags[j].ID.Equal(oidP12ShroudedKeyBag) {
				bags[j].Attributes = append(bags[j].Attributes, name)
				named = true
			}
		}
		if contentsDER, err = asn1.Marshal(bags); err != nil {
			return nil, err
		}
		if authSafe[i].Content, err = wrapOctets(contentsDER); err != nil {
			return nil, err
		}
	}
	if !named {
		return nil, errUnexpectedPKCS12
	}
	if authSafeDER, err = asn1.Marshal(authSafe); err != nil {
		return nil, err
	}
	if pfx.AuthSafe.Content, err = wrapOctets(authSafeDER); err != nil {
		return nil, err
	}
	bmpPassword, err := bmpString(string(password))
	if err != nil {
		return nil, err
	}
	macKey := pkcs12MACKey(bmpPassword, pfx.MacData.MacSalt, pfx.MacData.Iterations)
	mac := hmac.New(sha256.New, macKey)
	mac.Write(authSafeDER)
	pfx.MacData.Mac.Digest = mac.Sum(nil)
	return asn1.Marshal(pfx)
}

// friendlyNameAttribute is the PKCS#9 friendlyName: a SET of one BMPString.
func friendlyNameAttribute(alias string) (p12Attribute, error) {
	bmp, err := bmpString(alias)
	if err != nil {
		return p12Attribute{}, err
	}
	value, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: 30 /* BMPString */, Bytes: bmp[:len(bmp)-2]})
	if err != nil {
		return p12Attribute{}, err
	}
	return p12Attribute{ID: oidP12FriendlyName, Value: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: value}}, nil
}

// bmpString is s as UTF-16BE with a terminating zero, the password encoding of
// RFC 7292 appendix B.1.
func bmpString(s string) ([]byte, error) {
	out := make([]byte, 0, 2*len(s)+2)
	for _, r := range s {
		if r > 0xffff {
			return nil, errors.New("characters outside the Basic Multilingual Plane cannot be encoded")
		}
		u := utf16.Encode([]rune{r})[0]
		out = append(out, byte(u>>8), byte(u))
	}
	return append(out, 0, 0), nil
}

// pkcs12MACKey derives the HMAC-SHA256 key of a PFX's MAC from the password
// (as bmpString encodes it) with the PKCS#12 KDF of RFC 7292 appendix B.2, ID 3.
// The key is one hash long, so one round of the KDF suffices and the
// block-update step for longer outputs is not needed.
func pkcs12MACKey(password, salt []byte, iterations int) []byte {
	const v = 64 // SHA-256's block size
	fill := func(src []byte) []byte {
		if len(src) == 0 {
			return nil
		}
		out := make([]byte, v*((len(src)+v-1)/v))
		for i := range out {
			out[i] = src[i%len(src)]
		}
		return out
	}
	h := sha256.New()
	h.Write(bytes.Repeat([]byte{3}, v))
	h.Write(fill(salt))
	h.Write(fill(password))
	a := h.Sum(nil)
	for r := 1; r < iterations; r++ {
		sum := sha256.Sum256(a)
		a = sum[:]
	}
	return a
}
