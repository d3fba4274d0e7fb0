package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// AddAttachments stores files with message messageID of ticket ticketID, in
// the transaction s is bound to, and returns them (without content). The
// files are checked first (billing.CheckAttachments): one refused file
// stores none, and the caller's transaction, rolled back on the error,
// keeps no message without its files. (The seam the ticket store calls.)
func (s *Store) AddAttachments(ctx context.Context, ticketID, messageID int64, files []billing.AttachmentUpload) ([]billing.TicketAttachment, error) {
	types, err := billing.CheckAttachments(files)
	if err != nil {
		return nil, err
	}
	out := make([]billing.TicketAttachment, 0, len(files))
	err = s.inTx(ctx, func(q *dbsqlc.Queries) error {
		for i, f := range files {
			if f.Content == nil {
				f.Content = []byte{} // an empty file: the column is NOT NULL
			}
			sum := sha256.Sum256(f.Content)
			row, err := q.AttachmentInsert(ctx, dbsqlc.AttachmentInsertParams{TicketID: ticketID, MessageID: messageID, Name: f.Name,
				ContentType: types[i], Size: int64(len(f.Content)), Sha256: sum[:], Content: f.Content})
			if err != nil {
				return err
			}
			out = append(out, attachmentFromRow(dbsqlc.AttachmentListRow(row)))
		}
		return nil
	})
	return out, dbError(err, "attachment", "")
}

// AttachmentContent is a ticket's file with its content and what decides
// who may see it.
type AttachmentContent struct {
	billing.TicketAttachment
	Content []byte
	// MessageKind is the kind of its message: a note's files are staff's only.
	MessageKind  string
	CustomerID   int64
	DepartmentID int64
}

// Attachment returns file id of ticket ticketID with its content. The
// caller decides whether the principal may see it.
func (s *Store) Attachment(ctx context.Context, ticketID, id int64) (AttachmentContent, error) {
	row, err := s.q.AttachmentGet(ctx, dbsqlc.AttachmentGetParams{TicketID: ticketID, ID: id})
	if err != nil {
		return AttachmentContent{}, dbError(err, "attachment", id)
	}
	meta := dbsqlc.AttachmentListRow{ID: row.ID, TicketID: row.TicketID, MessageID: row.MessageID, Name: row.Name,
		ContentType: row.ContentType, Size: row.Size, Sha256: row.Sha256, CreatedAt: row.CreatedAt}
	return AttachmentContent{TicketAttachment: attachmentFromRow(meta), Content: row.Content, MessageKind: row.MessageKind,
		CustomerID: row.CustomerID, DepartmentID: row.DepartmentID}, nil
}

// TicketMessageAttachments returns the files (without content) of the ticket messages
// messageIDs, by message: for the ticket store to fill in
// TicketMessage.Attachments. A message without files has none in the map.
func (s *Store) TicketMessageAttachments(ctx context.Context, messageIDs []int64) (map[int64][]billing.TicketAttachment, error) {
	rows, err := s.q.AttachmentList(ctx, messageIDs)
	if err != nil {
		return nil, dbError(err, "attachment", "")
	}
	out := map[int64][]billing.TicketAttachment{}
	for _, r := range rows {
		out[r.MessageID] = append(out[r.MessageID], attachmentFromRow(r))
	}
	return out, nil
}

func attachmentFromRow(r dbsqlc.AttachmentListRow) billing.TicketAttachment {
	return billing.TicketAttachment{ID: r.ID, TicketID: r.TicketID, MessageID: r.MessageID, Name: r.Name,
		ContentType: r.ContentType, Size: r.Size, SHA256: hex.EncodeToString(r.Sha256), CreatedAt: r.CreatedAt}
}
