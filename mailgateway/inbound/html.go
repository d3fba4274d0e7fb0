package inbound

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLText turns an HTML body into readable text: paragraphs, headings,
// list items, table rows and <br> keep their line breaks; scripts, styles
// and the head are dropped; entities are decoded; a link reads
// "text (url)"; an image reads as its alt text. It never fails: the HTML
// parser repairs any markup.
func HTMLText(src string) string {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil { // only a reader error, which a strings.Reader never gives
		return strings.TrimSpace(src)
	}
	w := &textWriter{}
	w.node(doc)
	return tidyText(w.b.String())
}

// textWriter writes the text of an HTML tree, collapsing whitespace as a
// browser does and asking for line breaks where blocks begin and end.
type textWriter struct {
	b       strings.Builder
	breaks  int  // line breaks asked for before the next text
	space   bool // a space is due before the next text
	pre     int  // inside <pre>: whitespace kept
	started bool // any text written yet
}

// blocks are the elements that stand on lines of their own; paragraphs
// are separated by a blank line (2), the others by a line break (1).
var blocks = map[atom.Atom]int{
	atom.P: 2, atom.H1: 2, atom.H2: 2, atom.H3: 2, atom.H4: 2, atom.H5: 2, atom.H6: 2,
	atom.Blockquote: 2, atom.Pre: 2, atom.Table: 2, atom.Ul: 2, atom.Ol: 2, atom.Dl: 2, atom.Hr: 2,
	atom.Div: 1, atom.Tr: 1, atom.Li: 1, atom.Dt: 1, atom.Dd: 1, atom.Section: 1, atom.Article: 1,
	atom.Header: 1, atom.Footer: 1, atom.Address: 1, atom.Form: 1, atom.Fieldset: 1, atom.Center: 1,
	atom.Caption: 1, atom.Main: 1, atom.Nav: 1, atom.Aside: 1, atom.Figure: 1,
}

// dropped are the elements whose content is not text for a reader.
var dropped = map[atom.Atom]bool{
	atom.Head: true, atom.Script: true, atom.Style: true, atom.Title: true, atom.Template: true,
	atom.Noscript: true, atom.Object: true, atom.Iframe: true, atom.Svg: true, atom.Select: true,
}

func (w *textWriter) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
		return
	case html.ElementNode:
	default:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			w.node(c)
		}
		return
	}
	if dropped[n.DataAtom] {
		return
	}
	switch n.DataAtom {
	case atom.Br:
		w.lineBreak(1, true)
		return
	case atom.Img:
		if alt := strings.TrimSpace(attr(n, "alt")); alt != "" {
			w.text(alt)
		}
		return
	case atom.Td, atom.Th:
		if n.PrevSibling != nil {
			w.space = true
		}
	}
	brk := blocks[n.DataAtom]
	w.lineBreak(brk, false)
	if n.DataAtom == atom.Li {
		w.text("- ")
	}
	if n.DataAtom == atom.Pre {
		w.pre++
	}
	start := w.b.Len()
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.node(c)
	}
	if n.DataAtom == atom.Pre {
		w.pre--
	}
	if n.DataAtom == atom.A {
		w.link(attr(n, "href"), w.b.String()[start:])
	}
	w.lineBreak(brk, false)
}

// link writes " (url)" after a link's text, unless the text already says it.
func (w *textWriter) link(href, text string) {
	href = strings.TrimSpace(href)
	lower := strings.ToLower(href)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "mailto:") {
		return
	}
	shown := href
	if strings.HasPrefix(lower, "mailto:") {
		shown = href[len("mailto:"):]
	}
	text = strings.TrimSpace(text)
	if text == "" {
		w.text(shown)
		return
	}
	if text == shown || text == href || strings.TrimSuffix(shown, "/") == text {
		return
	}
	w.space = true
	w.text("(" + shown + ")")
}

// lineBreak asks for n line breaks before the next text; hard breaks (<br>)
// add up, block edges do not.
func (w *textWriter) lineBreak(n int, hard bool) {
	if n == 0 || !w.started {
		return
	}
	if hard {
		w.breaks++
	} else if n > w.breaks {
		w.breaks = n
	}
	w.space = false
}

var spaces = regexp.MustCompile(`[ \t\r\n\f\x{00a0}]+`)

func (w *textWriter) text(s string) {
	if w.pre == 0 {
		lead := len(s) > 0 && strings.ContainsRune(" \t\r\n\f", rune(s[0]))
		trail := len(s) > 0 && strings.ContainsRune(" \t\r\n\f", rune(s[len(s)-1]))
		s = strings.TrimSpace(spaces.ReplaceAllString(s, " "))
		if s == "" {
			if lead || trail {
				w.space = w.started
			}
			return
		}
		if lead {
			w.space = w.started
		}
		defer func() { w.space = trail }()
	}
	if w.breaks > 0 {
		w.b.WriteString(strings.Repeat("\n", w.breaks))
		w.breaks, w.space = 0, false
	} else if w.space {
		w.b.WriteByte(' ')
		w.space = false
	}
	w.b.WriteString(s)
	w.started = true
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

var manyBreaks = regexp.MustCompile(`\n{3,}`)

// tidyText trims each line's end and keeps at most one blank line in a row.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(manyBreaks.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}
