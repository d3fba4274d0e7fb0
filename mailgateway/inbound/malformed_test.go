package inbound

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseMalformed proves broken mail fails with a reason a person can
// read, or is read leniently with a warning where the text is still there,
// and never panics.
func TestParseMalformed(t *testing.T) {
	t.Parallel()
	const head = "From: Eve <eve@example.com>\r\nTo: support@company.net\r\nSubject: s\r\n"
	deep := func(n int) string {
		var b strings.Builder
		b.WriteString(head + "Content-Type: multipart/mixed; boundary=b0\r\n\r\n")
		for i := 0; i < n; i++ {
			b.WriteString("--b" + strconv.Itoa(i) + "\r\nContent-Type: multipart/mixed; boundary=b" + strconv.Itoa(i+1) + "\r\n\r\n")
		}
		b.WriteString("--b" + strconv.Itoa(n) + "\r\nContent-Type: text/plain\r\n\r\ndeep\r\n")
		return b.String()
	}
	tests := []struct {
		name    string
		raw     string
		reason  string // the error's Reason; "" for none
		text    string
		warning string
	}{
		{"empty input", "", "", "", "the mail names no sender (From)"},
		{"header only", head, "", "", ""},
		{"no From", "To: support@company.net\r\n\r\nhello", "", "hello", "the mail names no sender (From)"},
		{"From without address", "From: just a name\r\n\r\nhello", "", "hello",
			"the From header could not be parsed (mail: no angle-addr); its addresses were read loosely"},
		{"cut short", head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
			"", "hello", "the mail (multipart/mixed) ends without its closing boundary (the mail may be cut short)"},
		{"boundary never appears", head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--other\r\n\r\nhello\r\n",
			`the mail (multipart/mixed) has no part starting with its boundary "b"`, "", ""},
		{"no parts", head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n",
			"the mail (multipart/mixed) has no parts", "", ""},
		{"unknown transfer encoding", head + "Content-Transfer-Encoding: x-rot13\r\n\r\nuryyb",
			"", "uryyb", `the mail (text/plain) has an unknown transfer encoding ("x-rot13"); it was read as-is`},
		{"unparseable content type", head + "Content-Type: text/plain; charset\r\n\r\nhello", "", "hello", ""},
		{"as deep as allowed", deep(maxDepth - 1), "", "deep", ""},
		{"too deep", deep(maxDepth), "the mail's parts nest more than 20 deep", "", ""},
		{"binary garbage", "\x00\x01\x02\xff\xfe", "the mail's header cannot be read: malformed MIME header line: \x00\x01\x02\xff\xfe", "", ""},
		{"bad quoted-printable is kept as written", head + "Content-Transfer-Encoding: quoted-printable\r\n\r\nbad =ZZ here", "", "bad =ZZ here", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg, err := Parse([]byte(tt.raw), DefaultLimits())
			if tt.reason == "" {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrMalformed)
				require.EqualError(t, err, tt.reason)
			}
			require.Equal(t, tt.text, msg.Text)
			if tt.warning != "" {
				require.Contains(t, msg.Warnings, tt.warning)
			}
		})
	}
}
