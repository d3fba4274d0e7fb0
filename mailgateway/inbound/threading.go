package inbound

import (
	"regexp"
	"strconv"
	"strings"
)

// TicketRef names a ticket a mail answers: its id and its reply token, the
// secret that proves the sender got a mail about it.
type TicketRef struct {
	TicketID int64
	Token    string
}

// ticketID is the shape of the Message-IDs issue 13's ticket mails carry
// (activities.TicketRootID, activities.TicketMessageID):
// <ticket-<id>.<token>@<domain>> and <ticket-<id>.<token>.<digest>@<domain>>.
var ticketID = regexp.MustCompile(`^<ticket-([0-9]+)\.([A-Za-z0-9_-]+)(?:\.[0-9a-fA-F]+)?@[^<>@\s]+>$`)

// ticketLine is the body line of those mails (activities.TicketReference),
// "Ticket reference: #<id>-<token>", also when quoted ("> ...").
var ticketLine = regexp.MustCompile(`(?m)^[>\s]*Ticket reference: #([0-9]+)-([A-Za-z0-9_-]+)[ \t]*$`)

// TicketRefs returns the tickets msg answers, each once, most reliable
// first: from In-Reply-To, then References, then the reference lines in the
// text. The gateway must still check each token against the ticket's.
func TicketRefs(msg Message) []TicketRef {
	var out []TicketRef
	add := func(id, token string) {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			return
		}
		ref := TicketRef{TicketID: n, Token: token}
		for _, r := range out {
			if r == ref {
				return
			}
		}
		out = append(out, ref)
	}
	for _, ids := range [][]string{msg.InReplyTo, msg.References} {
		for _, id := range ids {
			if m := ticketID.FindStringSubmatch(id); m != nil {
				add(m[1], m[2])
			}
		}
	}
	for _, m := range ticketLine.FindAllStringSubmatch(msg.Text, -1) {
		add(m[1], m[2])
	}
	return out
}

// quoteHeads are the lines with which mail programs introduce the message
// being answered; everything from such a line on is the quote.
var quoteHeads = []*regexp.Regexp{
	regexp.MustCompile(`(?i)^-{2,}\s*(original message|ursprüngliche nachricht|исходное сообщение|message d'origine)\s*-{2,}$`),
	regexp.MustCompile(`(?i)^-{2,}\s*forwarded message\s*-{2,}$`),
	regexp.MustCompile(`^_{10,}$`), // Outlook's rule above "From: ... Sent: ..."
}

// wroteLine ends the attribution line of Thunderbird, Gmail and Apple Mail
// ("On Mon, 2 Nov 2026 at 10:00, Support <s@x> wrote:"), also in German,
// French and Russian; Gmail wraps it over two lines.
var wroteLine = regexp.MustCompile(`(?i)((wrote|a écrit|написал|написала|написал\(а\)|пишет)\s*:|\bschrieb\b.*:)\s*$`)
var wroteStart = regexp.MustCompile(`(?i)^(on|am|le|\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{2}-\d{2})\b`)

// outlookHeader is the start of the header block Outlook puts above the
// quoted message: "From: ..." followed by "Sent: ..." or "Date: ...".
var outlookHeader = regexp.MustCompile(`(?i)^\*?(from|von|от):\*?\s`)
var outlookNext = regexp.MustCompile(`(?i)^\*?(sent|date|gesendet|отправлено|to):\*?\s`)

// QuotedReply returns text without the quoted previous message: it cuts at
// a clearly marked quote head ("On ... wrote:", "-----Original
// Message-----", Outlook's "From:/Sent:" block) and drops the lines that
// start with ">". What is left is trimmed; it may be empty when the mail
// only quotes.
func QuotedReply(text string) string {
	lines := strings.Split(text, "\n")
	cut := len(lines)
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if quoteHead(t, lines, i) {
			cut = i
			break
		}
	}
	var kept []string
	for _, l := range lines[:cut] {
		if !strings.HasPrefix(strings.TrimLeft(l, " \t"), ">") {
			kept = append(kept, l)
		}
	}
	return strings.TrimSpace(strings.Join(kept, "\n"))
}

// quoteHead reports whether line i (t, trimmed) begins the quoted message.
func quoteHead(t string, lines []string, i int) bool {
	for _, re := range quoteHeads {
		if re.MatchString(t) {
			return true
		}
	}
	if wroteStart.MatchString(t) {
		if wroteLine.MatchString(t) {
			return true
		}
		if i+1 < len(lines) && wroteLine.MatchString(strings.TrimSpace(lines[i+1])) && len(t) < 200 {
			return true
		}
	}
	if outlookHeader.MatchString(t) && i+1 < len(lines) && outlookNext.MatchString(strings.TrimSpace(lines[i+1])) {
		return true
	}
	return false
}
