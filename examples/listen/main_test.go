package main

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The second run resumes after the position the first saved in the file
// store: it prints the two new changes, none of the first three again.
func TestResumesFromTheFileStore(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, func(string) string { return "" }), out.String())
	s := out.String()
	first, second, ok := bytes.Cut([]byte(s), []byte("second run"))
	require.True(t, ok, s)
	names := func(b []byte) []string {
		var out []string
		for _, m := range regexp.MustCompile(`CREATE Account \[001\w{15}\] name="(\w+)"`).FindAllSubmatch(b, -1) {
			out = append(out, string(m[1]))
		}
		return out
	}
	assert.Equal(t, []string{"Acme", "Globex", "Initech"}, names(first))
	assert.Equal(t, []string{"Umbrella", "Hooli"}, names(second))
}
