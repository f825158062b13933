package bulk

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

type fuzzParent struct {
	Name string `json:"Name"`
}

type fuzzRow struct {
	ID      string      `json:"Id"`
	Created bool        `json:"sf__Created"`
	N       *int64      `json:"N"`
	U       uint8       `json:"U"`
	F       float64     `json:"F"`
	T       time.Time   `json:"T"`
	D       time.Time   `json:"D" sf:"D,date"`
	Parent  *fuzzParent `json:"Account"`
}

// FuzzDecode feeds arbitrary bytes to the decoder. It must never panic or
// loop, every error must be a *DecodeError (the input is in memory, so no
// I/O error can occur), and every record it accepts must survive re-encoding:
// encoded and decoded again it holds the same values (to what the encoder
// writes: milliseconds of a dateTime, the calendar day of a date), and
// encoded again it gives the same CSV.
func FuzzDecode(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzDecode.
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := NewDecoder[fuzzRow](bytes.NewReader(data), Format{MaxRecordBytes: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10000; i++ {
			var r fuzzRow
			err := d.Decode(&r)
			if err == io.EOF {
				return
			}
			var de *DecodeError
			if err != nil {
				if !errors.As(err, &de) {
					t.Fatalf("error %T %v is not a *DecodeError", err, err)
				}
				if errors.Is(err, ErrValue) && de.Column != "" {
					continue // a bad cell fails only its record
				}
				// Any other error ends the input: the next call says so.
				if err := d.Decode(&r); err != io.EOF {
					t.Fatalf("after %v: Decode = %v, want io.EOF", de, err)
				}
				return
			}
			once := reencode(t, r)
			var back fuzzRow
			d2, _ := NewDecoder[fuzzRow](bytes.NewReader(once), Format{})
			if err := d2.Decode(&back); err != nil {
				t.Fatalf("re-decoding %q: %v", once, err)
			}
			if want := sent(r); !sameRow(back, want) {
				t.Fatalf("values changed through %q:\n got %+v\nwant %+v", once, back, want)
			}
			if twice := reencode(t, back); !bytes.Equal(once, twice) {
				t.Fatalf("not stable:\n%q\n%q", once, twice)
			}
		}
		t.Fatal("more than 10000 records from a fuzz input")
	})
}

func reencode(t *testing.T, r fuzzRow) []byte {
	t.Helper()
	var buf bytes.Buffer
	e, err := NewEncoder[fuzzRow](&buf, Format{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Encode(r); err != nil {
		t.Fatalf("encoding a decoded record %+v: %v", r, err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sent is r as the encoder writes it: a dateTime to the millisecond in UTC,
// a date as the calendar day in its own location ("Valid Date Format in
// Records (2.0)").
func sent(r fuzzRow) fuzzRow {
	if !r.T.IsZero() {
		u := r.T.UTC()
		r.T = time.Date(u.Year(), u.Month(), u.Day(), u.Hour(), u.Minute(), u.Second(), u.Nanosecond()/1e6*1e6, time.UTC)
	}
	if !r.D.IsZero() {
		y, m, d := r.D.Date()
		r.D = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return r
}

// sameRow compares field by field: times by instant, pointers by what they
// point to.
func sameRow(a, b fuzzRow) bool {
	sameN := (a.N == nil) == (b.N == nil) && (a.N == nil || *a.N == *b.N)
	sameParent := (a.Parent == nil) == (b.Parent == nil) && (a.Parent == nil || *a.Parent == *b.Parent)
	return a.ID == b.ID && a.Created == b.Created && sameN && a.U == b.U && a.F == b.F &&
		a.T.Equal(b.T) && a.D.Equal(b.D) && sameParent
}
