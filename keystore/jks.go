package keystore

import (
	"bytes"
	"crypto/x509"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
)

// parseJKS reads a JKS store. The layout is checked by parseJavaStore first, which
// bounds every length before keystore-go allocates for it; keystore-go then
// decrypts keys with Sun's JKS key protector.
func parseJKS(data []byte, password Secret) (*store, error) {
	entries, err := parseJavaStore(data, password)
	if err != nil {
		return nil, err
	}
	pw, ok := latin1(password)
	if !ok {
		return nil, failure(ErrUnsupported, "JKS passwords with characters beyond Latin-1",
			"convert the store to PKCS#12 with keytool -importkeystore -deststoretype PKCS12", nil)
	}
	ks := jks.New(jks.WithCaseExactAliases())
	if err := ks.Load(bytes.NewReader(data), pw); err != nil {
		return nil, failure(ErrCorrupt, "", "", err)
	}
	return javaStore(entries, func(e javaEntry, keyPassword Secret) (any, error) {
		kpw, ok := latin1(keyPassword)
		if !ok {
			return nil, failure(ErrUnsupported, "JKS key passwords with characters beyond Latin-1", "", nil)
		}
		pke, err := ks.GetPrivateKeyEntry(e.alias, kpw)
		if err != nil {
			return nil, failure(ErrWrongPassword, "the private key cannot be decrypted", hintKeyPassword, nil)
		}
		key, err := x509.ParsePKCS8PrivateKey(pke.PrivateKey)
		if err != nil {
			return nil, failure(ErrCorrupt, "the decrypted private key cannot be parsed", "", err)
		}
		return key, nil
	}), nil
}

// latin1 gives the bytes keystore-go expects: one byte per Java char.
func latin1(s Secret) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range string(s) {
		if r > 0xff {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}
