package bulkjob

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// runQuery runs the query and writes its CSV: columns in SELECT order (API
// 50.0 and later), a parent's fields as Account.Name, every value quoted,
// null as an empty cell.
func (js *Jobs) runQuery(j *Job) {
	js.set(j, func(i *Info) { i.State = StateInProgress })
	js.mu.Lock()
	q, info := j.soqlQuery, j.info
	js.mu.Unlock()
	res, err := js.query(q, j.v, info.Operation == "queryAll")
	if err != nil {
		var qe *soqlengine.Error
		if errors.As(err, &qe) {
			js.fail(j, qe.Code+" : "+qe.Message)
		} else {
			js.fail(j, "InternalError : "+err.Error())
		}
		return
	}
	if res.CountOnly {
		js.fail(j, "FeatureNotEnabled : Bulk API 2.0 query does not support aggregate functions such as COUNT()")
		return
	}
	// Columns: the union of every record's flattened names, in SELECT order.
	var columns []string
	seen := map[string]bool{}
	for _, rec := range res.Records {
		if rec.Type == "AggregateResult" {
			js.fail(j, "FeatureNotEnabled : Bulk API 2.0 query does not support aggregate functions or GROUP BY")
			return
		}
		for _, name := range Flatten(rec, "", nil, func(string, any) {}) {
			if !seen[name] {
				seen[name] = true
				columns = append(columns, name)
			}
		}
		if j.abort.Load() {
			return
		}
	}
	for _, rec := range res.Records {
		for _, f := range rec.Fields {
			if _, sub := f.Value.(*soqlengine.Result); sub {
				js.fail(j, "FeatureNotEnabled : Bulk API 2.0 query does not support parent-to-child subqueries")
				return
			}
		}
	}
	f, err := js.File("query-*.csv")
	if err != nil {
		js.fail(j, "InternalError : the fake org could not write results")
		return
	}
	defer f.Close()
	cw := &countingWriter{w: f, limit: 1 << 62}
	bw := bufio.NewWriterSize(cw, 64<<10)
	var header bytes.Buffer
	if len(res.Records) > 0 {
		hw := &ResultWriter{W: bufio.NewWriter(&header), Delim: string(j.delim), EOL: j.eol}
		hw.Row(columns)
		_ = hw.W.Flush()
	}
	offsets := make([]int64, 0, len(res.Records)+1)
	cells := make([]string, len(columns))
	index := make(map[string]int, len(columns))
	for i, c := range columns {
		index[c] = i
	}
	for _, rec := range res.Records {
		if j.abort.Load() {
			return
		}
		offsets = append(offsets, cw.n+int64(bw.Buffered()))
		clear(cells)
		Flatten(rec, "", nil, func(name string, v any) { cells[index[name]] = FormatCell(v) })
		for i, c := range cells {
			if i > 0 {
				bw.WriteRune(j.delim)
			}
			if c != "" {
				bw.WriteByte('"')
				bw.WriteString(strings.ReplaceAll(c, `"`, `""`))
				bw.WriteByte('"')
			}
		}
		bw.WriteString(j.eol)
	}
	pos := cw.n + int64(bw.Buffered())
	offsets = append(offsets, pos)
	if err := bw.Flush(); err != nil {
		js.fail(j, "InternalError : the fake org could not write results")
		return
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	j.result, j.header, j.offsets = f.Name(), header.Bytes(), offsets
	j.info.NumberRecordsProcessed = int64(len(res.Records))
	if !j.abort.Load() {
		j.info.State = StateComplete
	}
}

// Flatten calls set for each field of rec, parents' fields as Parent.Field,
// and returns their names.
func Flatten(rec soqlengine.Record, prefix string, names []string, set func(string, any)) []string {
	for _, f := range rec.Fields {
		switch v := f.Value.(type) {
		case *soqlengine.Record:
			if v != nil {
				names = Flatten(*v, prefix+f.Name+".", names, set)
			}
		case *soqlengine.Result:
		default:
			names = append(names, prefix+f.Name)
			set(prefix+f.Name, v)
		}
	}
	return names
}

// FormatCell renders a value for CSV: text as is, numbers without exponent,
// booleans as true/false, null as nothing.
func FormatCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return data.FormatValue(v)
}

// Page is one page of a query job's results.
type Page struct {
	// Locator is the Sforce-Locator of the next page, "null" after the last.
	Locator string
	// Records is how many records the page holds (Sforce-NumberOfRecords).
	Records int64
	// Write writes the page's CSV, the header first; nothing when the job
	// found no records.
	Write func(io.Writer) error
}

// QueryResults returns a page of a query job's results ("Get Results for a
// Query Job"). Pages follow locator (opaque; empty for the first page) and
// hold up to maxRecords records (empty: the fake's default). Asking with
// another API version than the job's is 409. The guide's editions disagree
// on results asked before JobComplete (412 JOB_NOT_COMPLETE in the ja-jp
// 222.0 edition, 204 in newer ones); the fake answers the 412 with its
// documented body.
func (js *Jobs) QueryResults(j *Job, v, locator, maxRecords string) (Page, *data.APIError) {
	js.mu.Lock()
	state, path, header, offsets, jobVersion := j.info.State, j.result, j.header, j.offsets, j.v
	js.mu.Unlock()
	if v != jobVersion {
		// The status is documented; the body is not.
		return Page{}, data.NewAPIError(http.StatusConflict, "INVALIDJOB", "the job was created with API version "+jobVersion+": ask for its results with the same version")
	}
	if state != StateComplete {
		return Page{}, data.NewAPIError(http.StatusPreconditionFailed, "JOB_NOT_COMPLETE",
			"can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: "+strings.ToUpper(state))
	}
	size := defaultMaxRecords
	if maxRecords != "" {
		n, err := strconv.Atoi(maxRecords)
		if err != nil || n < 1 {
			return Page{}, data.NewAPIError(http.StatusBadRequest, "INVALIDREQUEST", "maxRecords must be a positive whole number, not "+strconv.Quote(maxRecords))
		}
		size = n
	}
	rows := int64(len(offsets) - 1)
	var from int64
	if locator != "" {
		raw, err := base64.RawURLEncoding.DecodeString(locator)
		n, err2 := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || err2 != nil || n <= 0 || n >= rows {
			return Page{}, data.NewAPIError(http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		}
		from = n
	}
	to := min(from+int64(size), rows)
	next := "null"
	if to < rows {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(to, 10)))
	}
	return Page{Locator: next, Records: to - from, Write: func(out io.Writer) error {
		if rows == 0 {
			return nil // no records: an empty body (the docs show none for this case)
		}
		if _, err := out.Write(header); err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(out, io.NewSectionReader(f, offsets[from], offsets[to]-offsets[from]))
		return err
	}}, nil
}
