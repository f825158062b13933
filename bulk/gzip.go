package bulk

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"time"

	"github.com/klauspost/compress/flate"
)

// Levels the adaptive compressor moves between, from the smallest output to
// the least CPU: a link slower than the compressor is best served by the
// first, a faster one by the last (bench/README.md, "Compression").
var adaptiveLevels = []int{flate.BestSpeed, flate.HuffmanOnly, flate.NoCompression}

// segmentSize is how much CSV is compressed between two decisions.
const segmentSize = 512 << 10

// gzipWriter writes one gzip member (RFC 1952) whose DEFLATE blocks may be
// made at different levels: the data is compressed in segments, each ended
// by a sync flush, and between segments the compressor may be replaced by
// one of another level that goes on with the same DEFLATE stream (a new
// compressor starts without history, so its blocks refer only to its own
// data, which any inflater reads). With adaptive set, the level follows
// nextLevel: the time spent compressing a segment against the time spent
// waiting for the connection to take its output.
type gzipWriter struct {
	out      *timedWriter
	fw       *flate.Writer
	level    int // index in adaptiveLevels when adaptive, else the level
	adaptive bool
	crc      uint32
	size     uint32
}

func newGzipWriter(w io.Writer, level int, adaptive bool) (*gzipWriter, error) {
	g := &gzipWriter{out: &timedWriter{w: w}, adaptive: adaptive, level: level}
	if adaptive {
		level = adaptiveLevels[0]
	}
	fw, err := flate.NewWriter(g.out, level)
	if err != nil {
		return nil, err
	}
	g.fw = fw
	// ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unknown.
	if _, err := g.out.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}); err != nil {
		return nil, err
	}
	return g, nil
}

// ReadFrom compresses everything r holds, segment by segment.
func (g *gzipWriter) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, segmentSize)
	var total int64
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			total += int64(n)
			g.crc = crc32.Update(g.crc, crc32.IEEETable, buf[:n])
			g.size += uint32(n)
			start, waited := time.Now(), g.out.waited
			if _, err := g.fw.Write(buf[:n]); err != nil {
				return total, err
			}
			if err := g.fw.Flush(); err != nil {
				return total, err
			}
			if g.adaptive {
				waiting := g.out.waited - waited
				if err := g.setLevel(nextLevel(g.level, time.Since(start)-waiting, waiting)); err != nil {
					return total, err
				}
			}
		}
		switch {
		case errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF):
			return total, nil
		case rerr != nil:
			return total, rerr
		}
	}
}

// setLevel goes on with the compressor of adaptiveLevels[i]; the current one
// has flushed, so its blocks are complete.
func (g *gzipWriter) setLevel(i int) error {
	if i == g.level {
		return nil
	}
	fw, err := flate.NewWriter(g.out, adaptiveLevels[i])
	if err != nil {
		return err
	}
	g.fw, g.level = fw, i
	return nil
}

// Close ends the DEFLATE stream and writes the member's trailer.
func (g *gzipWriter) Close() error {
	if err := g.fw.Close(); err != nil {
		return err
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], g.crc)
	binary.LittleEndian.PutUint32(trailer[4:], g.size)
	_, err := g.out.Write(trailer[:])
	return err
}

// nextLevel chooses the level (an index in adaptiveLevels) of the next
// segment from the last one's: compressing took compressing, and handing
// the output to the connection waited waiting. A compressor that the
// connection waited for (waiting under half the compressing time) slows the
// upload: a faster level. A connection that kept the compressor waiting
// (more than twice the compressing time) has time to spare: a smaller
// output. Between the two the level stays, so that it does not swing.
func nextLevel(level int, compressing, waiting time.Duration) int {
	switch {
	case waiting*2 < compressing && level < len(adaptiveLevels)-1:
		return level + 1
	case waiting > 2*compressing && level > 0:
		return level - 1
	}
	return level
}

// timedWriter adds up the time its writes take: with a pipe to the request
// beneath it, the time spent waiting for the connection.
type timedWriter struct {
	w      io.Writer
	waited time.Duration
}

func (t *timedWriter) Write(p []byte) (int, error) {
	start := time.Now()
	n, err := t.w.Write(p)
	t.waited += time.Since(start)
	return n, err
}
