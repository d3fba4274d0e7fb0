package store_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// newTicketMessage inserts a ticket of a new customer in a new department
// and a client's message in it, with SQL (the ticket store is built in
// parallel), and returns their IDs.
func (b bundle) newTicketMessage(t *testing.T) (ticketID, messageID int64) {
	t.Helper()
	c := b.newCustomer(t)
	name := "Dept " + rand.Text()[:10]
	d, err := b.store.CreateDepartment(b.ctx, billing.DepartmentInput{Name: &name})
	require.NoError(t, err)
	db := b.store.Pool()
	require.NoError(t, db.QueryRow(b.ctx, `INSERT INTO tickets (customer_id, department_id, subject, reply_token)
		VALUES ($1, $2, 'Help', $3) RETURNING id`, c.ID, d.ID, rand.Text()).Scan(&ticketID))
	require.NoError(t, db.QueryRow(b.ctx, `INSERT INTO ticket_messages (ticket_id, kind, body)
		VALUES ($1, 'client', 'Hello') RETURNING id`, ticketID).Scan(&messageID))
	return ticketID, messageID
}

// TestAddAttachmentsStoresContentAndHash: each file is stored with its
// size, its SHA-256 and the type trusted, and reads back byte for byte.
func TestAddAttachmentsStoresContentAndHash(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ticketID, messageID := b.newTicketMessage(t)
	files := []billing.AttachmentUpload{
		{Name: "usage.csv", ContentType: "text/csv", Content: []byte("a,b\n1,2\n")},
		{Name: "invoice.pdf", Content: []byte("%PDF-1.7\n%%EOF\n")},
	}
	got, err := b.store.AddAttachments(b.ctx, ticketID, messageID, files)
	require.NoError(t, err)
	require.Len(t, got, 2)
	for i, a := range got {
		sum := sha256.Sum256(files[i].Content)
		require.Equal(t, hex.EncodeToString(sum[:]), a.SHA256)
		require.Equal(t, int64(len(files[i].Content)), a.Size)
		require.Equal(t, files[i].Name, a.Name)
		require.Equal(t, messageID, a.MessageID)
		read, err := b.store.Attachment(b.ctx, ticketID, a.ID)
		require.NoError(t, err)
		require.Equal(t, files[i].Content, read.Content)
		require.Equal(t, billing.MessageFromClient, read.MessageKind)
	}
	require.Equal(t, "text/csv; charset=utf-8", got[0].ContentType)
	require.Equal(t, "application/pdf", got[1].ContentType)

	byMessage, err := b.store.TicketMessageAttachments(b.ctx, []int64{messageID})
	require.NoError(t, err)
	require.Equal(t, got, byMessage[messageID])

	_, err = b.store.Attachment(b.ctx, ticketID+1000000, got[0].ID)
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err), "a file is found only under its own ticket")
}

// TestAddAttachmentsRefusedFileLeavesNothing: a message posted with one
// refused file among good ones, in one transaction, leaves neither the
// message nor any file.
func TestAddAttachmentsRefusedFileLeavesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ticketID, _ := b.newTicketMessage(t)
	var posted int64
	err := b.store.Tx(b.ctx, func(tx *store.Store) error {
		msg, err := tx.ExecForTest(b.ctx, `INSERT INTO ticket_messages (ticket_id, kind, body) VALUES ($1, 'client', 'With files') RETURNING id`, ticketID)
		if err != nil {
			return err
		}
		posted = msg
		_, err = tx.AddAttachments(b.ctx, ticketID, msg, []billing.AttachmentUpload{
			{Name: "a.txt", Content: []byte("fine")},
			{Name: "b.txt", Content: []byte("also fine")},
			{Name: "page.html", Content: []byte("<html><script>alert(1)</script></html>")},
		})
		return err
	})
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "%v", err)
	require.Contains(t, err.(*billing.Error).Fields, "attachments[2].name")
	require.NotZero(t, posted)
	var messages, files int
	require.NoError(t, b.store.Pool().QueryRow(b.ctx, `SELECT (SELECT count(*) FROM ticket_messages WHERE ticket_id = $1),
		(SELECT count(*) FROM ticket_attachments WHERE ticket_id = $1)`, ticketID).Scan(&messages, &files))
	require.Equal(t, 1, messages, "only the first message is left")
	require.Zero(t, files)
}

// TestAddAttachmentsEmptyFile: a file without content (an empty part of a
// mail, or a nil slice from any caller) is stored as an empty file, not
// refused by the database's NOT NULL as an internal error.
func TestAddAttachmentsEmptyFile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ticketID, messageID := b.newTicketMessage(t)
	got, err := b.store.AddAttachments(b.ctx, ticketID, messageID, []billing.AttachmentUpload{{Name: "empty.txt", ContentType: "text/plain"}})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, int64(0), got[0].Size)
	read, err := b.store.Attachment(b.ctx, ticketID, got[0].ID)
	require.NoError(t, err)
	require.Empty(t, read.Content)
}
