package inbound

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCleanFilename proves a sender cannot name an attachment into another
// folder, hide it as a dot file or smuggle control characters.
func TestCleanFilename(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\eve\evil.exe`, "evil.exe"},
		{".htaccess", "htaccess"},
		{"a\x00b\r\nc.txt", "a_b__c.txt"},
		{`what?"*<>|.txt`, "what______.txt"},
		{"  Счёт №1.pdf  ", "Счёт №1.pdf"},
		{"", ""},
		{strings.Repeat("я", 150), strings.Repeat("я", 100)},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, cleanFilename(tt.in), "cleanFilename(%q)", tt.in)
	}
}

// TestContentID proves Content-IDs come out as "<...>" however written.
func TestContentID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "<logo@x.example>", contentID(" <logo@x.example> "))
	require.Equal(t, "<logo@x.example>", contentID("logo@x.example"))
	require.Equal(t, "<logo>", contentID("logo"))
	require.Equal(t, "", contentID(""))
	require.Equal(t, "", contentID("<a b>"))
}
