package inbound

import (
	"io"
	"mime"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"golang.org/x/text/encoding/charmap"
)

// headerText makes a raw header value UTF-8. RFC 5322 headers are ASCII, but
// old mailers send 8-bit text in them unannounced; if it is not UTF-8 it is
// read as windows-1252, the charset such mailers nearly always mean.
func headerText(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	s, err := charmap.Windows1252.NewDecoder().String(v)
	if err != nil {
		return strings.ToValidUTF8(v, "\uFFFD")
	}
	return s
}

// looseAddress finds the addr-specs in a header that net/mail cannot parse.
var looseAddress = regexp.MustCompile(`[^\s<>(),;:"'\[\]\\]+@[^\s<>(),;:"'\[\]\\]+`)

// addresses parses the address list in header field key, lowercasing the
// addresses. A list net/mail refuses is read loosely (addresses only, no
// names) and noted in warn.
func addresses(h mail.Header, key string, warn func(string, ...any)) []Address {
	raw := headerText(h.Get(key))
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	var out []Address
	add := func(a Address) {
		if len(a.Address) > maxAddress {
			warn("an address in the %s header is over %d characters; it was left out", key, maxAddress)
			a.Address = ""
			if a.Name == "" {
				return
			}
		}
		out = append(out, a)
	}
	list, err := mail.ParseAddressList(raw)
	if err == nil {
		for _, a := range list {
			add(Address{Name: strings.TrimSpace(a.Name), Address: strings.ToLower(a.Address)})
		}
		return out
	}
	for _, a := range looseAddress.FindAllString(raw, -1) {
		add(Address{Address: strings.ToLower(strings.Trim(a, "."))})
	}
	warn("the %s header could not be parsed (%v); its addresses were read loosely", key, err)
	return out
}

// maxAddress is the longest address taken (RFC 5321 4.5.3.1.3: a path is at
// most 256 characters with its angle brackets). A longer one is no mailbox
// anybody can have; it is left out, since the gateway could not store it
// (PostgreSQL's indexes on addresses refuse entries of some 2,700 bytes)
// and the mail would fail every poll for ever.
const maxAddress = 254

// msgIDPattern is one message id as written in a header.
var msgIDPattern = regexp.MustCompile(`<[^<>\s]+>`)

// maxMessageID is the longest message id taken: a header line holds at
// most 998 characters (RFC 5322 2.1.1) and an id cannot be folded. A longer
// one is left out, as if the mail had none: the gateway keys mail by its
// Message-ID in a PostgreSQL index, which refuses entries of some 2,700
// bytes, and a mail it could not store would fail every poll for ever.
const maxMessageID = 998

// messageIDs reads the message ids in a Message-ID, In-Reply-To or
// References value and normalises them to "<left@right>". Ids without angle
// brackets, which some mailers write, are taken word by word; ids longer
// than maxMessageID are left out.
func messageIDs(v string) []string {
	v = headerText(v)
	var out []string
	add := func(id string) {
		if id != "<>" && len(id) <= maxMessageID && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if found := msgIDPattern.FindAllString(v, -1); len(found) > 0 {
		for _, id := range found {
			add(id)
		}
		return out
	}
	for _, w := range strings.Fields(v) {
		w = strings.Trim(w, ",;")
		if strings.Contains(w, "@") {
			add("<" + w + ">")
		}
	}
	return out
}

// decodeWords decodes the RFC 2047 encoded words in a header value. Words in
// a charset nobody knows keep their bytes, read as headerText reads 8-bit
// headers, rather than leaving "=?x-foo?Q?...?=" for a person to read.
func decodeWords(v string, warn func(string, ...any)) string {
	dec := mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
		cs = strings.ToLower(cs)
		if cs == "utf-8" || cs == "us-ascii" {
			return r, nil
		}
		if message.CharsetReader != nil {
			if cr, err := message.CharsetReader(cs, r); err == nil {
				return cr, nil
			}
		}
		warn("the header text in the unknown charset %q was read as-is", cs)
		return r, nil
	}}
	s, err := dec.DecodeHeader(v)
	if err != nil {
		warn("the header %q could not be decoded: %v", headerText(v), err)
		s = v
	}
	return headerText(s)
}
