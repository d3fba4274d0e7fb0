package inbound

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTicketRefs proves the ids and reference lines of issue 13's ticket
// mails are found, each once, headers first, and that look-alikes are not.
func TestTicketRefs(t *testing.T) {
	t.Parallel()
	const tok = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		msg  Message
		want []TicketRef
	}{
		{"root id in References", Message{References: []string{"<ticket-5." + tok + "@company.net>"}}, []TicketRef{{5, tok}}},
		{"message id with digest in In-Reply-To", Message{InReplyTo: []string{"<ticket-5." + tok + ".00ff00ff00ff00ff@billing>"}}, []TicketRef{{5, tok}}},
		{"In-Reply-To before References, each once",
			Message{InReplyTo: []string{"<ticket-6.bbb.0a@x>"}, References: []string{"<ticket-5.aaa@x>", "<ticket-6.bbb@x>"}},
			[]TicketRef{{6, "bbb"}, {5, "aaa"}}},
		{"body line", Message{Text: "thanks\n\nTicket reference: #12-" + tok + "\n"}, []TicketRef{{12, tok}}},
		{"quoted body line", Message{Text: "ok\n> > Ticket reference: #12-" + tok}, []TicketRef{{12, tok}}},
		{"header and body agree", Message{References: []string{"<ticket-12." + tok + "@x>"}, Text: "Ticket reference: #12-" + tok}, []TicketRef{{12, tok}}},
		{"other ids ignored", Message{References: []string{"<CAH123@mail.gmail.com>", "<ticket-x.abc@x>", "<ticket-0.abc@x>", "<xticket-5.abc@x>"}}, nil},
		{"reference inside a sentence ignored", Message{Text: "see Ticket reference: #12-abc please"}, nil},
		{"id too large ignored", Message{References: []string{"<ticket-99999999999999999999.abc@x>"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, TicketRefs(tt.msg))
		})
	}
}

// TestQuotedReply proves the clearly marked quote of a reply is cut off and
// that text which only looks like one is kept.
func TestQuotedReply(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text, want string }{
		{"no quote", "just text\nline two", "just text\nline two"},
		{"quote lines dropped", "answer\n> old\n>> older\nmore", "answer\nmore"},
		{"thunderbird", "yes\n\nOn 21.11.2026 18:02, Support wrote:\n> q\nunquoted tail", "yes"},
		{"gmail wrapped", "yes\n\nOn Mon, Nov 23, 2026 at 9:00 PM Support <s@x.example>\nwrote:\n> q", "yes"},
		{"german", "ja\n\nAm 21.11.2026 um 18:02 schrieb Support:\n> q", "ja"},
		{"russian", "да\n\n21.11.2026 18:02, Support написал:\n> q", "да"},
		{"original message", "fine\n\n-----Original Message-----\nFrom: s@x\nold", "fine"},
		{"outlook block", "fine\n\n________________________________\nFrom: S <s@x>\nSent: Friday\nold", "fine"},
		{"outlook block without rule", "fine\n\nFrom: S <s@x>\nSent: Friday\nold", "fine"},
		{"From line alone is text", "From: my phone\nhello", "From: my phone\nhello"},
		{"wrote in a sentence is text", "On the form I wrote my name.\nok", "On the form I wrote my name.\nok"},
		{"only a quote", "> old\n> text", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, QuotedReply(tt.text))
		})
	}
}
