package client_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Salesforce numbers its API versions NN.0 (REST API Developer Guide,
// "Versions" and "List Available REST API Versions": "version": "31.0",
// "url": "/services/data/v31.0"). Any other form is a 404 at the first call;
// New refuses it at once, with a fix that gives the form.
func TestNewRefusesAnAPIVersionNotOfTheFormNN0(t *testing.T) {
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	for _, v := range []string{"20", "v65", "65.1", "65.00", "065.0", "65.0.0", "6 5.0", "+65.0", "latest", ".0", "v"} {
		t.Run(v, func(t *testing.T) {
			cfg := org.ClientConfig()
			cfg.APIVersion = v
			c, err := client.New(cfg)
			require.Nil(t, c)
			ps := problems(t, err)
			require.Equal(t, []string{"APIVersion"}, fields(ps))
			assert.Equal(t, `client: Config.APIVersion: "`+v+`" is not a Salesforce API version`, ps[0].Error())
			assert.Contains(t, ps[0].Fix(), "NN.0, such as 65.0")
		})
	}
	for _, v := range []string{"65.0", "v65.0", "31.0", ""} {
		cfg := org.ClientConfig()
		cfg.APIVersion = v
		c, err := client.New(cfg)
		require.NoError(t, err, v)
		require.NoError(t, c.Close())
	}
	cfg := org.ClientConfig()
	cfg.APIVersion = "v" + salesforcetest.APIVersion
	c, err := client.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	v, err := c.APIVersion(t.Context())
	require.NoError(t, err)
	assert.Equal(t, salesforcetest.APIVersion, v)
}
