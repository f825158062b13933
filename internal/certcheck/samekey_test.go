package certcheck

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"math/big"
	"testing"
)

func TestSameKey(t *testing.T) {
	r1, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	d1, _, _ := ed25519.GenerateKey(rand.Reader)
	d2, _, _ := ed25519.GenerateKey(rand.Reader)
	copyRSA := &rsa.PublicKey{N: new(big.Int).Set(r1.N), E: r1.E}
	otherE := &rsa.PublicKey{N: new(big.Int).Set(r1.N), E: 3}
	onOtherCurve := &ecdsa.PublicKey{Curve: elliptic.P384(), X: e1.X, Y: e1.Y}
	for _, tc := range []struct {
		name string
		a, b crypto.PublicKey
		want bool
	}{
		{"rsa same value", &r1.PublicKey, copyRSA, true},
		{"rsa other key", &r1.PublicKey, &r2.PublicKey, false},
		{"rsa other exponent", &r1.PublicKey, otherE, false},
		{"rsa nil modulus", &rsa.PublicKey{E: 65537}, &rsa.PublicKey{E: 65537}, false},
		{"rsa nil pointer", (*rsa.PublicKey)(nil), &r1.PublicKey, false},
		{"rsa against ecdsa", &r1.PublicKey, &e1.PublicKey, false},
		{"ecdsa same", &e1.PublicKey, &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).Set(e1.X), Y: new(big.Int).Set(e1.Y)}, true},
		{"ecdsa other key", &e1.PublicKey, &e2.PublicKey, false},
		{"ecdsa other curve", &e1.PublicKey, onOtherCurve, false},
		{"ecdsa other size", &e1.PublicKey, &e384.PublicKey, false},
		{"ecdsa nil coordinates", &ecdsa.PublicKey{Curve: elliptic.P256()}, &ecdsa.PublicKey{Curve: elliptic.P256()}, false},
		{"ed25519 same", d1, ed25519.PublicKey(append([]byte(nil), d1...)), true},
		{"ed25519 other", d1, d2, false},
		{"nil", nil, nil, false},
	} {
		if got := SameKey(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: SameKey = %v, want %v", tc.name, got, tc.want)
		}
		// SameKey agrees with the keys' own Equal wherever that is defined.
		if eq, ok := tc.a.(interface{ Equal(crypto.PublicKey) bool }); ok && tc.name != "rsa nil modulus" && tc.name != "rsa nil pointer" && tc.name != "ecdsa nil coordinates" {
			if want := eq.Equal(tc.b); want != tc.want {
				t.Errorf("%s: Equal = %v, the table says %v", tc.name, want, tc.want)
			}
		}
	}
}
