package inbound

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// attachment reads a part that is not body text into the attachments,
// within the limits.
func (p *parser) attachment(e *message.Entity, typ, disp, filename, where string) error {
	n := len(p.msg.Attachments) + 1
	if max := p.limits.MaxAttachments; max > 0 && n > max {
		return tooLarge("the mail has more than %d attachments, the limit", max)
	}
	data, err := p.read(e.Body, where, e.Header, p.limits.MaxAttachmentSize)
	if err != nil {
		return err
	}
	name := cleanFilename(headerText(filename))
	if typ == "message/rfc822" || typ == "message/global" {
		if name == "" {
			name = nestedSubject(data)
		}
		if name == "" {
			name = "forwarded-message"
		}
		if !strings.HasSuffix(strings.ToLower(name), ".eml") {
			name += ".eml"
		}
	}
	if name == "" {
		name = fmt.Sprintf("attachment-%d%s", n, extension(typ))
	}
	if max := p.limits.MaxAttachmentSize; max > 0 && int64(len(data)) > max {
		return tooLarge("attachment %q is over the %s limit", name, size(max))
	}
	cid := contentID(e.Header.Get("Content-Id"))
	a := Attachment{Filename: name, ContentType: typ, Data: data, ContentID: cid,
		Inline: disp == "inline" || (disp == "" && cid != "")}
	p.msg.Attachments = append(p.msg.Attachments, a)
	return nil
}

// contentID normalises a Content-ID to "<...>"; some mailers leave out the
// brackets or the "@".
func contentID(v string) string {
	v = strings.Trim(strings.TrimSpace(headerText(v)), "<>")
	if v == "" || strings.ContainsAny(v, " \t<>") {
		return ""
	}
	return "<" + v + ">"
}

// nestedSubject is the subject of a forwarded mail, to name its .eml, or ""
// if it has none or cannot be read.
func nestedSubject(raw []byte) string {
	ent, err := message.Read(bytes.NewReader(raw))
	if ent == nil {
		return ""
	}
	_ = err // the nested body is kept as-is; only its header matters here
	s, _ := (&mail.Header{Header: ent.Header}).Subject()
	return cleanFilename(headerText(s))
}

// cleanFilename keeps a file name safe to store and show: no folders, no
// control characters, no leading dots, at most 200 bytes.
func cleanFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == ':' || r == '*' || r == '?' || r == '"' || r == '<' || r == '>' || r == '|' {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	for len(name) > 200 {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	return name
}

// extension is the file extension for a made-up attachment name; a fixed
// table, since mime.ExtensionsByType depends on the machine.
func extension(typ string) string {
	switch typ {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "application/pdf":
		return ".pdf"
	case "text/plain", "message/delivery-status", "message/disposition-notification":
		return ".txt"
	case "text/html":
		return ".html"
	case "text/calendar":
		return ".ics"
	case "text/rfc822-headers":
		return ".txt"
	}
	return ".bin"
}
