package keystore

import (
	"bytes"
	"crypto/sha1"
	"encoding/pem"
	"os"
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

// FuzzPEM parses PEM text, as given and as a buffer of the keystore's own
// (decoded in place), and decrypts every key in it.
func FuzzPEM(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, own := range []bool{false, true} {
			s, err := parsePEM(pemText{append([]byte(nil), data...), own})
			if err != nil {
				continue
			}
			for i := range s.entries {
				if s.entries[i].decrypt != nil {
					_, _ = s.entries[i].decrypt(keyPW)
				}
			}
		}
	})
}

// FuzzDecodePEMInPlace: a block decoded in place is the block pem.Decode
// reads at the same place (type, bytes, no headers, the same rest), and text
// left to pem.Decode is left untouched.
func FuzzDecodePEMInPlace(f *testing.F) {
	for _, name := range []string{"client-chain.pem", "client-combined-key-first.pem", "client-key-legacy-enc.pem",
		"client-key-pkcs1.pem", "ecclient-key-sec1.pem", "jwt-cert.pem", "jwt-key.pem"} {
		data, err := os.ReadFile(fixture(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"-----BEGIN X-----\nQUJD\n-----END X-----\n",
		"-----BEGIN X-----\r\nQU JD\t\r\n-----END X-----  \r\nrest",
		"-----BEGIN X-----\nQUI=\n-----END X-----",
		"-----BEGIN X-----\nQQ==\n-----END X-----",
		"-----BEGIN X-----\nQQ=\n-----END X-----",
		"-----BEGIN X-----\nQ===\n-----END X-----",
		"-----BEGIN X-----\nQQ==QQ==\n-----END X-----",
		"-----BEGIN X-----\nQUJ\n-----END X-----",
		"-----BEGIN X-----\n-----END X-----\n",
		"-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nQUJD\n-----END X-----\n",
		"-----BEGIN X-----\nQUJD\n-----END Y-----\n-----BEGIN X-----\nQUJD\n-----END X-----\n",
		"junk\n-----BEGIN X-----\n-----BEGIN X-----\nQUJD\n-----END X-----x\n",
		"a-----BEGIN X-----\nQUJD\n-----END X-----\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantRest := pem.Decode(data)
		buf := append([]byte(nil), data...)
		typ, der, rest, ok := decodePEMInPlace(buf)
		if !ok {
			if !bytes.Equal(buf, data) {
				t.Fatal("text left to pem.Decode was changed")
			}
			return
		}
		if want == nil {
			t.Fatalf("decoded %q where pem.Decode finds no block", typ)
		}
		if string(typ) != want.Type || !bytes.Equal(der, want.Bytes) || len(want.Headers) != 0 || len(rest) != len(wantRest) {
			t.Fatalf("decoded %q (%d bytes, %d left), pem.Decode %q (%d bytes, %d headers, %d left)",
				typ, len(der), len(rest), want.Type, len(want.Bytes), len(want.Headers), len(wantRest))
		}
		if !bytes.Equal(rest, wantRest) {
			t.Fatal("the rest differs")
		}
	})
}

// FuzzPKCS8 decrypts an EncryptedPrivateKeyInfo (PBES2) given as DER.
func FuzzPKCS8(f *testing.F) {
	f.Fuzz(func(t *testing.T, der []byte) {
		_, _ = decryptPKCS8(der, keyPW)
		_, _ = decryptPEMKey(pemBlock{typ: "ENCRYPTED PRIVATE KEY", der: der}, keyPW)
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
