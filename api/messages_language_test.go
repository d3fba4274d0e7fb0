package api_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSendMessageLanguageOfRegionalCustomers: "only customers of this
// language" reaches a customer whose language is written DE or de-AT, as the
// templates do (notices.Languages), and not one of another language.
func TestSendMessageLanguageOfRegionalCustomers(t *testing.T) {
	t.Parallel()
	w := newMessageWorld(t, 100)
	_, deMails := w.customer("de")
	_, upperMails := w.customer("DE")
	_, atMails := w.customer("de-AT")
	w.customer("en")
	w.customer("dsb") // Lower Sorbian: not German though it starts with "d"
	id := w.send(map[string]any{"category": "info", "language": "de", "subject": "Alle Deutschsprachigen", "text": "Hallo"})
	m := w.waitFinished(id)
	require.Equal(t, "done", m["status"])
	require.Equal(t, sorted(deMails, upperMails, atMails), w.received("Alle Deutschsprachigen"))
	require.Equal(t, 3.0, m["progress"].(map[string]any)["total"])
}
