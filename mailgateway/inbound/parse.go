package inbound

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // non-UTF-8 charsets (see the package doc)
	"github.com/emersion/go-message/mail"
)

// maxDepth is how deep multiparts may nest; real mail stays under 6, so a
// deeper one is malformed or hostile.
const maxDepth = 20

// Parse reads one raw mail (RFC 5322 with MIME) within limits.
//
// A mail Parse cannot read fails with an *Error of kind ErrMalformed, one
// over limits with kind ErrTooLarge; either way the Message returned holds
// what could be read (the headers at least, when they parse), so that the
// gateway can file the mail under "Incoming emails" with the Reason. What is
// read leniently (unknown charsets, a missing closing boundary, an
// unparseable address list) is listed in Message.Warnings instead. Parse
// never panics.
func Parse(raw []byte, limits Limits) (msg Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Reason: fmt.Sprintf("the mail could not be read: %v: %v", errParserPanic, r),
				kind: ErrMalformed, err: errParserPanic}
		}
	}()
	p := &parser{limits: limits, msg: &msg}
	err = p.parse(raw)
	p.finish()
	return msg, err
}

// parser is the state of one Parse.
type parser struct {
	limits      Limits
	msg         *Message
	plain, html []string // the body's text parts, in mail order
}

func (p *parser) warn(format string, args ...any) {
	p.msg.Warnings = append(p.msg.Warnings, fmt.Sprintf(format, args...))
}

func (p *parser) parse(raw []byte) error {
	ent, err := message.Read(bytes.NewReader(raw))
	if ent == nil {
		return malformed(err, "the mail's header cannot be read: %s", strings.TrimSpace(strings.TrimPrefix(err.Error(), "message: ")))
	}
	p.headers(ent.Header)
	if p.limits.MaxSize > 0 && int64(len(raw)) > p.limits.MaxSize {
		return tooLarge("the mail is %s, over the %s limit", size(int64(len(raw))), size(p.limits.MaxSize))
	}
	return p.entity(ent, err, nil)
}

// headers fills the Message's header fields from the top-level header.
func (p *parser) headers(h message.Header) {
	m := p.msg
	m.Header = textproto.MIMEHeader{}
	for f := h.Fields(); f.Next(); {
		m.Header.Add(f.Key(), f.Value())
	}
	mh := mail.Header{Header: h}
	if from := addresses(mh, "From", p.warn); len(from) > 0 {
		m.From = from[0]
	} else {
		p.warn("the mail names no sender (From)")
	}
	m.To = addresses(mh, "To", p.warn)
	m.Cc = addresses(mh, "Cc", p.warn)
	m.ReplyTo = addresses(mh, "Reply-To", p.warn)
	m.Subject = strings.TrimSpace(decodeWords(h.Get("Subject"), p.warn))
	if h.Has("Date") {
		date, err := mh.Date()
		if err != nil {
			p.warn("the date %q could not be read", headerText(h.Get("Date")))
		}
		m.Date = date
	}
	if ids := messageIDs(h.Get("Message-Id")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = messageIDs(h.Get("In-Reply-To"))
	m.References = messageIDs(h.Get("References"))
	m.ContentType, _ = mediaType(h)
}

// entity reads one MIME entity (the mail itself, or a part at path) into
// the body or the attachments. readErr is the library's lenient error for
// it (an unknown charset or transfer encoding), if any.
func (p *parser) entity(e *message.Entity, readErr error, path []int) error {
	if len(path) > maxDepth {
		return malformed(nil, "the mail's parts nest more than %d deep", maxDepth)
	}
	typ, params := mediaType(e.Header)
	where := partName(path, typ)
	if strings.HasPrefix(typ, "multipart/") {
		return p.multipart(e, path, where, params["boundary"])
	}
	switch {
	case message.IsUnknownCharset(readErr):
		p.warn("%s is in an unknown charset (%q); it was read as-is", where, params["charset"])
	case readErr != nil:
		p.warn("%s has an unknown transfer encoding (%q); it was read as-is", where, e.Header.Get("Content-Transfer-Encoding"))
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	if (typ == "text/plain" || typ == "text/html") && disp != "attachment" && filename == "" {
		data, err := p.read(e.Body, where, e.Header, 0)
		if err != nil {
			return err
		}
		text := normaliseText(headerText(string(data)))
		if typ == "text/plain" {
			p.plain = append(p.plain, text)
		} else {
			p.html = append(p.html, text)
		}
		return nil
	}
	return p.attachment(e, typ, disp, filename, where)
}

// multipart reads the parts of a multipart entity in order.
func (p *parser) multipart(e *message.Entity, path []int, where, boundary string) error {
	if boundary == "" {
		return malformed(nil, "%s has no boundary, so its parts cannot be told apart", where)
	}
	mr := e.MultipartReader()
	n := 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if part == nil {
			if n > 0 {
				p.warn("%s ends without its closing boundary (the mail may be cut short)", where)
				break
			}
			return malformed(err, "%s has no part starting with its boundary %q", where, boundary)
		}
		n++
		if err := p.entity(part, err, append(path[:len(path):len(path)], n)); err != nil {
			return err
		}
	}
	if n == 0 {
		return malformed(nil, "%s has no parts", where)
	}
	return nil
}

// read reads a part's decoded content, at most max bytes (0: no limit) plus
// one, so that the caller can tell it is over.
func (p *parser) read(r io.Reader, where string, h message.Header, max int64) ([]byte, error) {
	if max > 0 {
		r = io.LimitReader(r, max+1)
	}
	data, err := io.ReadAll(r)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		p.warn("%s is cut short", where)
		return data, nil
	}
	enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	if enc == "" {
		enc = "7bit"
	}
	return nil, malformed(err, "%s cannot be decoded: its %s content is corrupt (%v)", where, enc, err)
}

// mediaType is an entity's lowercased media type and parameters, with RFC
// 2045's default text/plain when it has none or an unreadable one.
func mediaType(h message.Header) (string, map[string]string) {
	typ, params, err := h.ContentType()
	if err != nil || typ == "" || !strings.Contains(typ, "/") {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Get("Content-Type"))), "multipart/") {
			return "multipart/mixed", map[string]string{}
		}
		return "text/plain", map[string]string{}
	}
	return strings.ToLower(typ), params
}

// partName names a part for a person: "the mail (text/plain)", "part 2.1
// (image/png)".
func partName(path []int, typ string) string {
	if len(path) == 0 {
		return fmt.Sprintf("the mail (%s)", typ)
	}
	nums := make([]string, len(path))
	for i, n := range path {
		nums[i] = fmt.Sprint(n)
	}
	return fmt.Sprintf("part %s (%s)", strings.Join(nums, "."), typ)
}

// finish builds the text body and the reply from the parts read.
func (p *parser) finish() {
	text := strings.TrimSpace(strings.Join(p.plain, "\n\n"))
	if text == "" && len(p.html) > 0 {
		parts := make([]string, 0, len(p.html))
		for _, h := range p.html {
			parts = append(parts, HTMLText(h))
		}
		text = strings.TrimSpace(strings.Join(parts, "\n\n"))
	}
	p.msg.Text = text
	p.msg.Reply = QuotedReply(text)
	p.msg.dropNULs()
}

// dropNULs leaves NUL characters out of the text fields: a mail may carry
// them (encoded, or in 8-bit text), but PostgreSQL text cannot hold them,
// and a mail the gateway could not store would fail every poll for ever.
func (m *Message) dropNULs() {
	drop := func(s *string) { *s = strings.ReplaceAll(*s, "\x00", "") }
	addrs := func(list []Address) {
		for i := range list {
			drop(&list[i].Name)
			drop(&list[i].Address)
		}
	}
	drop(&m.From.Name)
	drop(&m.From.Address)
	addrs(m.To)
	addrs(m.Cc)
	addrs(m.ReplyTo)
	drop(&m.Subject)
	drop(&m.MessageID)
	for _, ids := range [][]string{m.InReplyTo, m.References} {
		for i := range ids {
			drop(&ids[i])
		}
	}
	drop(&m.Text)
	drop(&m.Reply)
	for i := range m.Attachments {
		drop(&m.Attachments[i].Filename)
		drop(&m.Attachments[i].ContentType)
		drop(&m.Attachments[i].ContentID)
	}
	for i := range m.Warnings {
		drop(&m.Warnings[i])
	}
}

// normaliseText gives text "\n" line ends and no trailing blanks on lines.
func normaliseText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Join(lines, "\n")
}
