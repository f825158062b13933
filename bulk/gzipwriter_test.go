package bulk

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

// csvLike is n bytes of CSV-like text, compressible as records are.
func csvLike(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "Account %d,%s,%d\n", i, []string{"Energy", "Banking", "Retail"}[r.IntN(3)], r.IntN(100000))
	}
	return b.Bytes()[:n]
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false) // one member: the level changes stay inside it
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The stream stays one valid gzip member whatever the levels its segments
// were compressed at, read back by the standard library's reader.
func TestGzipWriterChangesLevelWithinOneMember(t *testing.T) {
	data := csvLike(5*segmentSize + 1234)
	for _, levels := range [][]int{{0}, {1}, {2}, {0, 1, 2, 1, 0, 2}, {2, 2, 0, 0, 1, 1}} {
		var out bytes.Buffer
		g, err := newGzipWriter(&out, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		g.level = 0
		for i, l := range levels {
			if err := g.setLevel(l); err != nil {
				t.Fatal(err)
			}
			seg := data[min(i*segmentSize, len(data)):min((i+1)*segmentSize, len(data))]
			if i == len(levels)-1 {
				seg = data[min(i*segmentSize, len(data)):]
			}
			if _, err := g.ReadFrom(bytes.NewReader(seg)); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
		if got := gunzip(t, out.Bytes()); !bytes.Equal(got, data) {
			t.Fatalf("levels %v: %d bytes read back, want the %d written", levels, len(got), len(data))
		}
	}
}

// Adaptive, into a writer that never waits (a link faster than any
// compressor), the compressor moves to ever faster levels; the output still
// reads back.
func TestGzipWriterAdaptsToAFastLink(t *testing.T) {
	data := csvLike(4 * segmentSize)
	var out bytes.Buffer
	g, err := newGzipWriter(&out, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.ReadFrom(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if g.level != len(adaptiveLevels)-1 {
		t.Errorf("ended at level index %d, want %d (no compression)", g.level, len(adaptiveLevels)-1)
	}
	if got := gunzip(t, out.Bytes()); !bytes.Equal(got, data) {
		t.Fatal("the output does not read back")
	}
}

// nextLevel's rule, decided from the times alone.
func TestNextLevel(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		level                int
		compressing, waiting time.Duration
		want                 int
	}{
		{0, 10 * ms, 1 * ms, 1},  // the connection waited for the compressor: faster
		{1, 10 * ms, 4 * ms, 2},  // still
		{2, 10 * ms, 0, 2},       // none faster
		{2, 1 * ms, 10 * ms, 1},  // the compressor waited: a smaller output
		{1, 2 * ms, 10 * ms, 0},  // still
		{0, 1 * ms, 100 * ms, 0}, // none smaller
		{1, 10 * ms, 10 * ms, 1}, // between: stays
		{1, 10 * ms, 20 * ms, 1}, // at the edge: stays
		{1, 10 * ms, 5 * ms, 1},  // at the other edge: stays
	} {
		if got := nextLevel(tc.level, tc.compressing, tc.waiting); got != tc.want {
			t.Errorf("nextLevel(%d, %v, %v) = %d, want %d", tc.level, tc.compressing, tc.waiting, got, tc.want)
		}
	}
}
