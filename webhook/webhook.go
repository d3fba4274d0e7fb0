// Package webhook decides where webhooks may go. It guards against
// server-side request forgery: a product's webhook_url must not make the
// worker call the loopback interface, a private network or the cloud
// metadata service. The API checks a URL when staff save it (CheckURL); the
// client that sends (NewClient) checks the address of every connection it
// opens, so a name that resolves elsewhere later (DNS rebinding) or a
// redirect can't get past either.
package webhook

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// RefusedError says why a webhook target is refused.
type RefusedError struct {
	Host   string     // the host as written in the URL, or "" for a connection
	Addr   netip.Addr // the address it is or resolves to, if known
	Reason string     // e.g. "a loopback address"
}

func (e *RefusedError) Error() string {
	switch {
	case !e.Addr.IsValid():
		return fmt.Sprintf("%s is %s", e.Host, e.Reason)
	case e.Host == "" || e.Host == e.Addr.String():
		return fmt.Sprintf("%s is %s", e.Addr, e.Reason)
	default:
		return fmt.Sprintf("%s resolves to %s, %s", e.Host, e.Addr, e.Reason)
	}
}

// special are the ranges, besides those netip names, that are not the public
// internet (IANA special-purpose registries).
var special = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address`},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared address (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("192.88.99.0/24"), "a 6to4 relay address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved or broadcast address"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "an IPv4-translated address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
	{netip.MustParsePrefix("2001::/23"), "an IETF protocol address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("3fff::/20"), "a documentation address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
}

// IPv6 prefixes that carry an IPv4 address: the IPv4 address decides.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // the IPv4 address in the last 4 bytes
	sixToFour = netip.MustParsePrefix("2002::/16")    // the IPv4 address in bytes 2 to 5
)

// Restricted says what kind of non-public address addr is ("a loopback
// address"), or "" when it is a public internet address a webhook may reach.
func Restricted(addr netip.Addr) string {
	addr = addr.WithZone("").Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	switch {
	case !addr.IsValid():
		return "not an IP address"
	case addr.IsUnspecified():
		return "an unspecified address"
	case addr.IsLoopback():
		return "a loopback address"
	case addr.IsPrivate():
		return "a private network address"
	case addr.IsLinkLocalUnicast():
		return "a link-local address (such as the cloud metadata service)"
	case addr.IsMulticast():
		return "a multicast address"
	}
	for _, s := range special {
		if s.prefix.Contains(addr) {
			return s.what
		}
	}
	b := addr.As16()
	if nat64.Contains(addr) {
		if why := Restricted(netip.AddrFrom4([4]byte(b[12:16]))); why != "" {
			return why + " behind NAT64"
		}
	}
	if sixToFour.Contains(addr) {
		if why := Restricted(netip.AddrFrom4([4]byte(b[2:6]))); why != "" {
			return why + " behind 6to4"
		}
	}
	return ""
}

// CheckURL returns a *RefusedError if raw is not an http or https URL, or if
// its host is a non-public address or a name that resolves to one. A name
// that does not resolve now passes: the sending client checks again.
func CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return &RefusedError{Host: raw, Reason: "not an http or https URL"}
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if addr, err := netip.ParseAddr(host); err == nil {
		if why := Restricted(addr); why != "" {
			return &RefusedError{Host: host, Addr: addr, Reason: why}
		}
		return nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return &RefusedError{Host: host, Reason: "a loopback name"}
	}
	labels := strings.Split(host, ".")
	if last := labels[len(labels)-1]; strings.HasPrefix(last, "0x") || strings.Trim(last, "0123456789") == "" {
		// 2130706433 or 127.1: IPv4 in a form some resolvers accept.
		return &RefusedError{Host: host, Reason: "not a host name; write an IP address as four decimal numbers"}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, addr := range addrs {
		if why := Restricted(addr); why != "" {
			return &RefusedError{Host: host, Addr: addr.Unmap(), Reason: why}
		}
	}
	return nil
}

// NewClient returns the client that sends webhooks. Unless allowPrivate, it
// connects only to public addresses, checked on the address actually
// dialled, and ignores HTTP_PROXY (a proxy would hide that address). It
// keeps no idle connections, so one client per delivery costs nothing later.
func NewClient(allowPrivate bool) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = true
	if !allowPrivate {
		t.Proxy = nil
		t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: publicOnly}).DialContext
	}
	return &http.Client{Transport: t, Timeout: 20 * time.Second}
}

// publicOnly is a net.Dialer Control: it runs for every connection attempt,
// with the resolved address, just before connecting.
func publicOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Host: address, Reason: "not an IP address"}
	}
	if why := Restricted(ap.Addr()); why != "" {
		return &RefusedError{Addr: ap.Addr().WithZone("").Unmap(), Reason: why}
	}
	return nil
}
