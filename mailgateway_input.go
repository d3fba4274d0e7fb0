package billing

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
)

// Limits of a mail gateway's settings.
const (
	MinPollSeconds         = 30
	DefaultPollSeconds     = 300
	DefaultMaxMessageBytes = 25 << 20
	MaxMaxMessageBytes     = 100 << 20
)

// MailGatewayInput creates a gateway or changes the fields that are set.
// Password is kept when a change leaves it out.
type MailGatewayInput struct {
	Name            *string `json:"name"`
	Type            *string `json:"type"`
	Protocol        *string `json:"protocol"`
	Host            *string `json:"host"`
	Port            *int    `json:"port"`
	Security        *string `json:"security"`
	Login           *string `json:"login"`
	Password        *string `json:"password"`
	Address         *string `json:"address"`
	DepartmentID    *int64  `json:"department_id"`
	PollSeconds     *int    `json:"poll_seconds"`
	AfterProcessing *string `json:"after_processing"`
	MaxMessageBytes *int64  `json:"max_message_bytes"`
	Paused          *bool   `json:"paused"`
}

// NewMailGateway is a gateway before its first input: the defaults.
func NewMailGateway() MailGateway {
	return MailGateway{Type: GatewayExternal, Security: "implicit", PollSeconds: DefaultPollSeconds,
		AfterProcessing: AfterProcessingMarkRead, MaxMessageBytes: DefaultMaxMessageBytes}
}

// Apply returns g with in applied, validated. A new gateway (creating)
// needs a password; a change keeps the stored one unless in has one.
func (in MailGatewayInput) Apply(g MailGateway, creating bool) (MailGateway, error) {
	oldHost := g.Host
	set(&g.Name, in.Name)
	set(&g.Type, in.Type)
	set(&g.Protocol, in.Protocol)
	set(&g.Host, in.Host)
	set(&g.Port, in.Port)
	set(&g.Security, in.Security)
	set(&g.Login, in.Login)
	set(&g.Password, in.Password)
	set(&g.Address, in.Address)
	set(&g.DepartmentID, in.DepartmentID)
	set(&g.PollSeconds, in.PollSeconds)
	set(&g.AfterProcessing, in.AfterProcessing)
	set(&g.MaxMessageBytes, in.MaxMessageBytes)
	set(&g.Paused, in.Paused)
	g.Host, g.Login, g.Address = strings.TrimSpace(g.Host), strings.TrimSpace(g.Login), strings.TrimSpace(g.Address)
	var v Validator
	v.Text("name", g.Name, 100)
	v.Check(g.Type == GatewayExternal || g.Type == GatewayLocal, "type", "must be external (a mail server reached over the network) or local (one on the billing system's host)")
	v.Check(g.Protocol == "imap" || g.Protocol == "pop3", "protocol", "must be imap or pop3")
	v.Check(g.Security == "implicit" || g.Security == "starttls" || g.Security == "none", "security", "must be implicit (TLS from the start, ports 993/995), starttls or none")
	v.Check(g.Security != "none" || g.Type == GatewayLocal, "security", "none sends the password in the clear: allowed only for a local gateway; use implicit or starttls")
	v.Check(g.Port >= 1 && g.Port <= 65535, "port", "must be a port from 1 to 65535, such as 993 for IMAP over TLS or 995 for POP3 over TLS")
	v.Text("host", g.Host, 253)
	v.Check(!strings.ContainsFunc(g.Host, unicode.IsSpace) && !strings.Contains(g.Host, "/"), "host", "must be a host name or an IP address such as mail.example.com, without a scheme or port")
	v.Check(g.Type != GatewayLocal || IsLoopbackHost(g.Host), "host",
		"a local gateway's server is on the billing system's host: localhost, 127.0.0.1 or ::1; a server elsewhere is an external gateway")
	v.Text("login", g.Login, 200)
	// The stored password goes only to the server it was given for: moving
	// the gateway to another host without it would hand it to whoever runs
	// that host, and so to anyone who may edit gateways.
	v.Check(creating || in.Password != nil || strings.EqualFold(g.Host, oldHost), "password",
		"is required when the host changes: the stored password is sent only to the server it was given for")
	if creating || in.Password != nil {
		v.Check(g.Password != "", "password", "is required")
		v.Check(len(g.Password) <= 1000, "password", "must be at most 1000 bytes")
		v.Check(!strings.ContainsAny(g.Password, "\r\n\x00"), "password", "must not contain line breaks or NUL")
	}
	v.Email("address", g.Address)
	v.Check(g.DepartmentID > 0, "department_id", "is required: the department whose tickets the mail becomes")
	v.Check(g.PollSeconds >= MinPollSeconds && g.PollSeconds <= 86400, "poll_seconds", fmt.Sprintf("must be from %d to 86400 seconds", MinPollSeconds))
	v.Check(g.AfterProcessing == AfterProcessingMarkRead || g.AfterProcessing == AfterProcessingDelete, "after_processing", "must be mark_read or delete")
	v.Check(g.MaxMessageBytes >= 1024 && g.MaxMessageBytes <= MaxMaxMessageBytes, "max_message_bytes", fmt.Sprintf("must be from 1024 to %d bytes", MaxMaxMessageBytes))
	return g, v.Err()
}

// IsLoopbackHost says whether host names the billing system's own host:
// "localhost" or a loopback IP address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// POP3NoReadFlag is what a gateway's answer says when it reads POP3 and
// is to mark mail read: POP3 keeps no read flag, so processed mail is
// deleted from the mailbox instead.
const POP3NoReadFlag = "POP3 has no read flag: processed mail is deleted from the mailbox"

// Note returns what the operator should know about g's settings ("" if
// nothing).
func (g MailGateway) Note() string {
	if g.Protocol == "pop3" && g.AfterProcessing == AfterProcessingMarkRead {
		return POP3NoReadFlag
	}
	return ""
}
