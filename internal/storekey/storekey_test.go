package storekey

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKey(t *testing.T) {
	k := Key("https://Acme.my.salesforce.com:443/", "key", "User@example.com")
	assert.Equal(t, k, Key("https://acme.my.salesforce.com", "key", "user@example.com"), "case, default port and slash do not matter")
	assert.NotEqual(t, k, Key("https://acme.my.salesforce.com:8443", "key", "user@example.com"))
	assert.NotEqual(t, k, Key("https://acme.my.salesforce.com", "key2", "user@example.com"))
	assert.NotEqual(t, k, Key("https://acme.my.salesforce.com", "key", "other@example.com"))
	assert.NotEqual(t, Key("a", "b\x00c", "d"), Key("a", "b", "c\x00d"), "parts are delimited")
	assert.Regexp(t, `^[0-9a-f]{32}$`, k)
}

// The keys of sessions stored by earlier versions (auth.StoreKey): a change
// here would orphan every stored session and split the tool from services.
func TestKeyIsStable(t *testing.T) {
	assert.Equal(t, "0c54f6bbb3117a0d88da4b5b3e419cfd", Key("https://acme.my.salesforce.com", "3MVG9key", "user@example.com"))
	assert.Equal(t, "bf13fdf33e2e29071f884836dd658abe", Key("", "", "u@x.com"))
}
