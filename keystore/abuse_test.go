package keystore

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryFixtureAndRandomBytesGiveAnErrorOrAnIdentity runs every fixture, a
// truncation and a corruption of each, and random bytes through the public
// loader and Inspect: each call returns an identity or a *Error, never panics.
func TestEveryFixtureAndRandomBytesGiveAnErrorOrAnIdentity(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(1, 2))
	var inputs [][]byte
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.IsDir() {
			continue
		}
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		inputs = append(inputs, data, data[:len(data)/2], data[:len(data)-1])
		flipped := append([]byte(nil), data...)
		for range 8 {
			flipped[rng.IntN(len(flipped))] ^= byte(1 + rng.IntN(255))
		}
		inputs = append(inputs, flipped)
	}
	// The producers' files load intact in producers_test.go; here their damaged
	// forms (BER, serialized secret keys, no MAC) meet the parsers.
	producers, err := filepath.Glob(filepath.Join("testdata", "producers", "*"))
	require.NoError(t, err)
	for _, f := range producers {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		flipped := append([]byte(nil), data...)
		for range 4 {
			flipped[rng.IntN(len(flipped))] ^= byte(1 + rng.IntN(255))
		}
		inputs = append(inputs, data[:len(data)/2], data[:len(data)-21], flipped)
	}
	for range 500 {
		b := make([]byte, rng.IntN(4096))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		// Give some random inputs a real header so they reach the format parsers.
		switch rng.IntN(6) {
		case 0:
			copy(b, []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2})
		case 1:
			copy(b, []byte{0xce, 0xce, 0xce, 0xce, 0, 0, 0, 2})
		case 2:
			copy(b, []byte{0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03, 0x30, 0x10, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07})
		case 3: // BER indefinite length, as NSS writes
			copy(b, []byte{0x30, 0x80, 0x02, 0x01, 0x03, 0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x80, 0x24, 0x80})
		case 4: // a Bouncy Castle header
			copy(b, []byte{0, 0, 0, 2, 0, 0, 0, 20})
		}
		inputs = append(inputs, b)
	}
	// The inputs are independent: four parts run in parallel (some inputs ask
	// for 600,000 KDF iterations), and "inputs" returns once all have.
	const parts = 4
	var loaded atomic.Int64
	t.Run("inputs", func(t *testing.T) {
		for part := range parts {
			t.Run(strconv.Itoa(part), func(t *testing.T) {
				t.Parallel()
				for i := part; i < len(inputs); i += parts {
					data := inputs[i]
					for _, opts := range []Options{{Password: storePW}, {Password: storePW, KeyPassword: keyPW}, {}, {Password: "wrong"}} {
						id, err := Load(data, opts)
						if err == nil {
							require.NotNil(t, id.Signer(), "input %d", i)
							loaded.Add(1)
						} else {
							var kerr *Error
							require.True(t, errors.As(err, &kerr), "input %d: %T %v", i, err, err)
							require.NotNil(t, kerr.Kind)
						}
						if _, err := Inspect(data, opts); err != nil {
							var kerr *Error
							require.True(t, errors.As(err, &kerr), "input %d: %T %v", i, err, err)
						}
					}
				}
			})
		}
	})
	require.Positive(t, loaded.Load(), "the intact fixtures load")
	t.Logf("%d inputs, %d loads succeeded", len(inputs), loaded.Load())
}
