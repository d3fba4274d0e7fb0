package api

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNetwork: rate limits count an IPv4 address alone and an IPv6 address
// by its /64, so a client can't dodge them with the many addresses of its
// own network.
func TestNetwork(t *testing.T) {
	t.Parallel()
	for ip, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"::ffff:203.0.113.7":   "::ffff:203.0.113.7",
		"not an address":       "not an address",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
	} {
		require.Equal(t, want, network(ip), ip)
	}
}
