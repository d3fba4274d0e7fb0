package webhook_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing/webhook"
)

func TestRestricted(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"127.0.0.1":              "a loopback address",
		"127.8.9.10":             "a loopback address",
		"::1":                    "a loopback address",
		"::ffff:127.0.0.1":       "a loopback address", // IPv4-mapped
		"10.1.2.3":               "a private network address",
		"172.16.0.1":             "a private network address",
		"172.31.255.254":         "a private network address",
		"192.168.1.1":            "a private network address",
		"fc00::1":                "a private network address",
		"fd12:3456::1":           "a private network address",
		"169.254.169.254":        "a link-local address (such as the cloud metadata service)",
		"::ffff:169.254.169.254": "a link-local address (such as the cloud metadata service)",
		"fe80::1":                "a link-local address (such as the cloud metadata service)",
		"fe80::1%eth0":           "a link-local address (such as the cloud metadata service)",
		"100.64.0.1":             "a shared address (carrier-grade NAT)",
		"100.127.255.254":        "a shared address (carrier-grade NAT)",
		"0.0.0.0":                "an unspecified address",
		"::":                     "an unspecified address",
		"0.1.2.3":                `a "this network" address`,
		"224.0.0.1":              "a multicast address",
		"ff02::1":                "a multicast address",
		"255.255.255.255":        "a reserved or broadcast address",
		"192.0.2.1":              "a documentation address",
		"198.18.0.1":             "a benchmarking address",
		"::127.0.0.1":            "an IPv4-compatible address",
		"64:ff9b::7f00:1":        "a loopback address behind NAT64",
		"64:ff9b::a9fe:a9fe":     "a link-local address (such as the cloud metadata service) behind NAT64",
		"2002:a00:1::":           "a private network address behind 6to4",
		"2001:db8::1":            "a documentation address",
		// public
		"8.8.8.8":              "",
		"93.184.215.14":        "",
		"172.32.0.1":           "", // just past 172.16.0.0/12
		"100.128.0.1":          "", // just past 100.64.0.0/10
		"2606:4700:4700::1111": "",
		"::ffff:8.8.8.8":       "",
		"64:ff9b::808:808":     "", // 8.8.8.8 through NAT64
	} {
		require.Equal(t, want, webhook.Restricted(netip.MustParseAddr(addr)), addr)
	}
	require.Equal(t, "not an IP address", webhook.Restricted(netip.Addr{}))
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"http://127.0.0.1/x":                 "127.0.0.1 is a loopback address",
		"http://[::1]/":                      "::1 is a loopback address",
		"http://[::ffff:127.0.0.1]:8080/":    "127.0.0.1 is a loopback address",
		"http://169.254.169.254/latest/meta": "169.254.169.254 is a link-local address",
		"http://[fe80::1%25eth0]/":           "is a link-local address",
		"http://0.0.0.0:9000/":               "0.0.0.0 is an unspecified address",
		"http://localhost/":                  "localhost is a loopback name",
		"http://LOCALHOST./":                 "localhost is a loopback name",
		"https://admin.localhost/":           "admin.localhost is a loopback name",
		"http://2130706433/":                 "2130706433 is not a host name",
		"http://127.1/":                      "127.1 is not a host name",
		"http://0x7f000001/":                 "0x7f000001 is not a host name",
		"ftp://example.com/":                 "not an http or https URL",
		"file:///etc/passwd":                 "not an http or https URL",
		"https://93.184.215.14/hook?token=t": "",
		"https://[2606:4700:4700::1111]/":    "",
		"https://hooks.invalid/t":            "", // does not resolve: the sending client checks
	} {
		err := webhook.CheckURL(t.Context(), raw)
		if want == "" {
			require.NoError(t, err, raw)
			continue
		}
		var refused *webhook.RefusedError
		require.ErrorAs(t, err, &refused, raw)
		require.Contains(t, err.Error(), want, raw)
	}
}

// TestClientConnectsOnlyToPublicAddresses: the address actually dialled
// decides, whatever the URL says (a name resolving to loopback is refused
// like the literal address).
func TestClientConnectsOnlyToPublicAddresses(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	byName := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for _, u := range []string{srv.URL, byName} {
		_, err := webhook.NewClient(false).Post(u, "application/json", nil)
		var refused *webhook.RefusedError
		require.ErrorAs(t, err, &refused, u)
		require.Equal(t, "a loopback address", refused.Reason)
	}
	require.Zero(t, hits.Load(), "nothing reached the loopback receiver")

	res, err := webhook.NewClient(true).Post(srv.URL, "application/json", nil)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, int32(1), hits.Load())
}

// TestClientIgnoresProxies: a proxy would hide the address really connected
// to, so the refusing client never uses HTTP_PROXY.
func TestClientIgnoresProxies(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://192.0.2.1:3128")
	t.Setenv("HTTPS_PROXY", "http://192.0.2.1:3128")
	tr, ok := webhook.NewClient(false).Transport.(*http.Transport)
	require.True(t, ok)
	require.Nil(t, tr.Proxy)
}
