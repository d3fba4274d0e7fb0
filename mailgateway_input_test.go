package billing

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func gatewayInput(host, typ, security string) MailGatewayInput {
	name, proto, port, login, pw, addr, dep := "Support", "imap", 993, "support", "secret", "support@example.com", int64(1)
	return MailGatewayInput{Name: &name, Type: &typ, Protocol: &proto, Host: &host, Port: &port, Security: &security,
		Login: &login, Password: &pw, Address: &addr, DepartmentID: &dep}
}

// TestMailGatewayLocalMeansThisHost: security none (the password in the
// clear) is for a local gateway, and a local gateway's server is this host:
// "local" with a host elsewhere would send the password in the clear over
// the network.
func TestMailGatewayLocalMeansThisHost(t *testing.T) {
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "LOCALHOST"} {
		_, err := gatewayInput(host, GatewayLocal, "none").Apply(NewMailGateway(), true)
		require.NoError(t, err, host)
	}
	for _, host := range []string{"mail.example.com", "10.0.0.5", "203.0.113.7", "localhost.example.com"} {
		_, err := gatewayInput(host, GatewayLocal, "none").Apply(NewMailGateway(), true)
		require.ErrorContains(t, err, "host", host)
	}
}

// TestMailGatewayHostChangeNeedsPassword: a change that moves the gateway
// to another host must carry the password; otherwise anyone who may edit
// gateways could point one at their own server and read the stored
// password off its next poll or "test connection".
func TestMailGatewayHostChangeNeedsPassword(t *testing.T) {
	g, err := gatewayInput("mail.example.com", GatewayExternal, "implicit").Apply(NewMailGateway(), true)
	require.NoError(t, err)
	g.Password = "" // as a stored gateway is read back: sealed

	other := "mail.attacker.example"
	_, err = MailGatewayInput{Host: &other}.Apply(g, false)
	var fe *Error
	require.ErrorAs(t, err, &fe)
	require.ErrorContains(t, err, "password")

	pw := "the new one"
	_, err = MailGatewayInput{Host: &other, Password: &pw}.Apply(g, false)
	require.NoError(t, err)

	same, name := "MAIL.example.com", "Renamed"
	_, err = MailGatewayInput{Host: &same, Name: &name}.Apply(g, false)
	require.NoError(t, err, "the same host, another case")
}
