package inbound

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHTMLText proves HTML becomes text a person can read: blocks and <br>
// break lines, scripts and styles vanish, entities decode, links keep their
// address.
func TestHTMLText(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, html, want string }{
		{"paragraphs", "<p>one</p><p>two</p>", "one\n\ntwo"},
		{"br", "a<br>b<br/><br>c", "a\nb\n\nc"},
		{"whitespace collapses", "<p>  a \n\t b  </p>", "a b"},
		{"inline keeps spaces", "a <b>bold</b> <i>word</i>.", "a bold word."},
		{"entities", "&lt;tag&gt; &amp; &quot;q&quot; &euro;&nbsp;5 &#x41;", `<tag> & "q" € 5 A`},
		{"script and style dropped", "<style>p{}</style><p>x</p><script>var a=1;</script>", "x"},
		{"head dropped", "<html><head><title>T</title></head><body>b</body></html>", "b"},
		{"link", `<a href="https://x.example/p">the page</a>`, "the page (https://x.example/p)"},
		{"link same as text", `<a href="https://x.example/">https://x.example</a>`, "https://x.example"},
		{"mailto", `<a href="mailto:a@b.example">write</a>`, "write (a@b.example)"},
		{"relative link dropped", `<a href="/p">rel</a>`, "rel"},
		{"javascript link dropped", `<a href="javascript:alert(1)">js</a>`, "js"},
		{"empty link", `<a href="https://x.example/p"></a>`, "https://x.example/p"},
		{"list", "<ul><li>a</li><li>b</li></ul>", "- a\n- b"},
		{"table", "<table><tr><td>k</td><td>v</td></tr><tr><td>k2</td><td>v2</td></tr></table>", "k v\nk2 v2"},
		{"pre keeps lines", "<pre>a\n  b</pre>", "a\n  b"},
		{"image alt", `<img src="x.png" alt="Logo">`, "Logo"},
		{"divs", "<div>a</div><div>b</div>", "a\nb"},
		{"broken markup", "<p>a<b>b<p>c</i></div>", "ab\n\nc"},
		{"not html at all", "just text", "just text"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, HTMLText(tt.html))
		})
	}
}
