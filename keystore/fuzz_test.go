package keystore

import (
	"crypto/sha1"
	"encoding/pem"
	"testing"
)

// Seed corpora live in testdata/fuzz/<target>, written by testdata/gen.sh from the
// fixtures. Each target checks only that bad bytes give an error, never a panic or
// a hang; go test runs the seeds, go test -fuzz explores from them.

func FuzzDetectFormat(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if fm := detectFormat(data); fm < FormatUnknown || fm > FormatPEM {
			t.Fatalf("format %d out of range", fm)
		}
	})
}

// FuzzLoad drives the public loader, format detection included.
func FuzzLoad(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checkLoad(t, data, Options{Password: storePW, KeyPassword: keyPW})
		checkLoad(t, data, Options{Password: storePW})
	})
}

func checkLoad(t *testing.T, data []byte, opts Options) {
	id, err := Load(data, opts)
	if err == nil && (id.Signer() == nil || len(id.Chain()) == 0) {
		t.Fatal("identity without key or chain")
	}
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error of type %T: %v", err, err)
		}
	}
	_, _ = Inspect(data, opts)
}

// FuzzJavaStore reads JKS and JCEKS layouts with a digest made valid, so that
// mutations reach entry parsing and key decryption instead of stopping at the check.
func FuzzJavaStore(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 12+javaDigestLen {
			return
		}
		fixed := append([]byte(nil), data...)
		body := len(fixed) - javaDigestLen
		h := sha1.New()
		h.Write(javaPasswordBytes(storePW))
		h.Write([]byte("Mighty Aphrodite"))
		h.Write(fixed[:body])
		copy(fixed[body:], h.Sum(nil))
		jceks := func(d []byte, pw Secret) (*store, error) { return parseJCEKS(d, pw, fuzzMaxIterations) }
		for _, parse := range []func([]byte, Secret) (*store, error){parseJKS, jceks} {
			s, err := parse(fixed, storePW)
			if err != nil {
				continue
			}
			for i := range s.entries {
				if s.entries[i].decrypt != nil {
					_, _ = s.entries[i].decrypt(storePW)
				}
			}
		}
	})
}

// fuzzMaxIterations keeps each execution fast: keytool's 200,000 MD5 rounds per key
// would let the fuzzer run a handful of inputs a minute.
const fuzzMaxIterations = 64

// FuzzJCEKSKey decrypts a protected key blob as a JCEKS entry holds it.
func FuzzJCEKSKey(f *testing.F) {
	// A blob keytool would write but with few iterations, so mutations reach the cipher.
	id, err := LoadFile(fixture("ecclient-openssl.p12"), Options{Password: storePW})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealJCEKSKey(f, id.Signer(), keyPW, []byte("saltsalt"), 16))
	f.Add(sealJCEKSKey(f, id.Signer(), keyPW, []byte("abcdabcd"), 3)) // equal salt halves
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = decryptJCEKSKey(data, keyPW, fuzzMaxIterations)
	})
}

// FuzzPEM parses PEM text and decrypts every key in it.
func FuzzPEM(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parsePEM(data)
		if err != nil {
			return
		}
		for i := range s.entries {
			if s.entries[i].decrypt != nil {
				_, _ = s.entries[i].decrypt(keyPW)
			}
		}
	})
}

// FuzzPKCS8 decrypts an EncryptedPrivateKeyInfo (PBES2) given as DER.
func FuzzPKCS8(f *testing.F) {
	f.Fuzz(func(t *testing.T, der []byte) {
		_, _ = decryptPKCS8(der, keyPW)
		_, _ = decryptPEMKey(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}, keyPW)
	})
}

// FuzzPKCS12 reads PFX bytes: BER, MAC or none, safes, bags and key decryption.
func FuzzPKCS12(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parsePKCS12(data, storePW, fuzzMaxIterations)
		if err != nil {
			return
		}
		for i := range s.entries {
			if s.entries[i].decrypt != nil {
				_, _ = s.entries[i].decrypt(storePW)
			}
		}
	})
}

// FuzzBER rewrites BER as DER: never a panic, and DER comes back unchanged.
func FuzzBER(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		der, err := berToDER(data)
		if err != nil {
			return
		}
		again, err := berToDER(der)
		if err != nil || string(again) != string(der) {
			t.Fatalf("DER output is not stable: %v", err)
		}
	})
}

// FuzzJavaSerial walks a serialized Java object as a JCEKS secret-key entry holds
// it: the walk ends inside the data or fails, never panics or loops.
func FuzzJavaSerial(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &javaReader{data: data}
		skipJavaObject(r)
		if r.off > len(data) {
			t.Fatalf("read past the end: %d > %d", r.off, len(data))
		}
	})
}

// FuzzRC2 runs the RC2 cipher on any key, effective length and data: a refused
// key or a padding error, never a panic, and encryption undone by decryption.
func FuzzRC2(f *testing.F) {
	f.Add([]byte{0x88, 0xbc, 0xa9, 0x0e, 0x90}, 40, []byte("0123456789abcdef"))
	f.Add(make([]byte, 16), 128, []byte("\x00\x01\x02\x03\x04\x05\x06\x07"))
	f.Add([]byte{0xff}, 1024, []byte{})
	f.Fuzz(func(t *testing.T, key []byte, bits int, data []byte) {
		c, err := newRC2(key, bits)
		if err != nil {
			return
		}
		_, _ = decryptCBC(rc2WithBits(bits), key, make([]byte, 8), data)
		if len(data) < 8 {
			return
		}
		enc, dec := make([]byte, 8), make([]byte, 8)
		c.Encrypt(enc, data[:8])
		c.Decrypt(dec, enc)
		if string(dec) != string(data[:8]) {
			t.Fatalf("decrypt(encrypt(%x)) = %x", data[:8], dec)
		}
	})
}
