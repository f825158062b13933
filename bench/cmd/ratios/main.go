// Command ratios reads `go test -bench` output of the bench package from
// standard input and prints, per benchmark and metric, the median of each
// implementation and the ratios sfmtls/baseline and sfmtls/peer, with the
// targets the benchmarks were written for.
package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^Benchmark(\w+)/(?:(op=[\w-]+)/)?(?:(proto=\w+)/)?(?:(conc=\d+)/)?impl=(\w+)(?:-\d+)?\s+\d+\s+(.*)$`)

type key struct{ bench, unit string }

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	values := map[key]map[string][]float64{}
	var order []key
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		bench := m[1]
		for _, sub := range m[2:5] {
			if sub != "" {
				bench += "/" + sub
			}
		}
		f := strings.Fields(m[6])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			k := key{bench, f[i+1]}
			if values[k] == nil {
				values[k] = map[string][]float64{}
				order = append(order, k)
			}
			values[k][m[5]] = append(values[k][m[5]], v)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(order) == 0 {
		return fmt.Errorf("no benchmark lines in the input")
	}
	units := map[string]int{"req/s": 0, "ns/op": 1, "cpu-ms/op": 2, "peak-heap-MiB": 3, "allocs/op": 4, "B/op": 5, "handshakes/10k": 6, "tokens/10k": 7}
	slices.SortStableFunc(order, func(a, b key) int {
		if a.bench != b.bench {
			return 0
		}
		return units[a.unit] - units[b.unit]
	})
	fmt.Fprintf(out, "%-27s %-15s %12s %12s %12s %10s %10s  %s\n", "benchmark", "metric", "baseline", "peer", "sfmtls", "sf/base", "sf/peer", "target")
	for _, k := range order {
		v := values[k]
		b, p, s := median(v["baseline"]), median(v["peer"]), median(v["sfmtls"])
		fmt.Fprintf(out, "%-27s %-15s %12s %12s %12s %10s %10s  %s\n", k.bench, k.unit, num(b), num(p), num(s), ratio(s, b), ratio(s, p), target(k.bench, k.unit, v, b, p, s))
	}
	fmt.Fprintln(out, "\n\"within noise\": the median misses, but sfmtls's interquartile range overlaps the other's scaled by the target.")
	grid(out, values, order)
	peerTable(out, values, order)
	return nil
}

// peerTable prints, for the Peer benchmark, peer ÷ sfmtls per operation
// and metric (> 1: sfmtls is faster or leaner), the median of the rounds'
// ratios with their lowest and highest: round i of one implementation is
// paired with round i of the other, run next to it.
func peerTable(out io.Writer, values map[key]map[string][]float64, order []key) {
	header := false
	for _, k := range order {
		if !strings.HasPrefix(k.bench, "Peer/") || (k.unit != "ns/op" && k.unit != "cpu-ms/op" && k.unit != "peak-heap-MiB") {
			continue
		}
		p, s := values[k]["peer"], values[k]["sfmtls"]
		var r []float64
		for i := range min(len(p), len(s)) {
			if s[i] > 0 {
				r = append(r, p[i]/s[i])
			}
		}
		if len(r) == 0 {
			continue
		}
		if !header {
			fmt.Fprintf(out, "\npeer ÷ sfmtls (> 1: sfmtls faster or leaner), median of %d rounds [lowest, highest]\n", len(r))
			fmt.Fprintf(out, "%-30s %-15s %8s %18s\n", "operation", "metric", "median", "spread")
			header = true
		}
		slices.Sort(r)
		fmt.Fprintf(out, "%-30s %-15s %8.2f %18s\n", strings.TrimPrefix(k.bench, "Peer/op="), k.unit, median(r), fmt.Sprintf("[%.2f, %.2f]", r[0], r[len(r)-1]))
	}
}

var cell = regexp.MustCompile(`^Request/proto=(\w+)/conc=(\d+)$`)

// grid prints sfmtls/baseline throughput as a table of protocol by callers.
func grid(out io.Writer, values map[key]map[string][]float64, order []key) {
	var protos, concs []string
	ratios := map[[2]string]string{}
	for _, k := range order {
		m := cell.FindStringSubmatch(k.bench)
		if m == nil || k.unit != "req/s" {
			continue
		}
		if !slices.Contains(protos, m[1]) {
			protos = append(protos, m[1])
		}
		if !slices.Contains(concs, m[2]) {
			concs = append(concs, m[2])
		}
		v := values[k]
		ratios[[2]string{m[1], m[2]}] = ratio(median(v["sfmtls"]), median(v["baseline"]))
	}
	if len(protos) == 0 {
		return
	}
	fmt.Fprintf(out, "\nsfmtls/baseline req/s (medians)\n%-8s", "callers")
	for _, p := range protos {
		fmt.Fprintf(out, " %8s", p)
	}
	fmt.Fprintln(out)
	for _, c := range concs {
		fmt.Fprintf(out, "%-8s", c)
		for _, p := range protos {
			fmt.Fprintf(out, " %8s", cmp.Or(ratios[[2]string{p, c}], "-"))
		}
		fmt.Fprintln(out)
	}
}

func target(bench, unit string, v map[string][]float64, b, p, s float64) string {
	if !strings.HasPrefix(bench, "Request/") { // the targets are per request
		return ""
	}
	switch unit {
	case "req/s":
		if s >= 0.97*b && s >= p {
			return "met (>= 0.97 x baseline, >= 1.0 x peer)"
		}
		// Medians alone cannot tell on a noisy machine: a miss is reported only
		// when the quartiles do not overlap.
		_, sHi := quartiles(v["sfmtls"])
		bLo, _ := quartiles(v["baseline"])
		pLo, _ := quartiles(v["peer"])
		if sHi >= 0.97*bLo && sHi >= pLo {
			return "within noise (>= 0.97 x baseline, >= 1.0 x peer)"
		}
		return "MISSED (>= 0.97 x baseline, >= 1.0 x peer)"
	case "allocs/op":
		if s-b <= 2 {
			return "met (<= baseline + 2)"
		}
		return "MISSED (<= baseline + 2)"
	}
	return ""
}

// quartiles returns the first and third quartiles.
func quartiles(v []float64) (float64, float64) {
	if len(v) == 0 {
		return -1, -1
	}
	c := slices.Clone(v)
	slices.Sort(c)
	return c[len(c)/4], c[(3*len(c))/4]
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	c := slices.Clone(v)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func num(v float64) string {
	if v < 0 {
		return "-"
	}
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func ratio(a, b float64) string {
	if a < 0 || b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", a/b)
}
