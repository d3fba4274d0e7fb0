package store

import (
	"context"

	"github.com/tempobill/billing"
)

// AddAttachments stores files with message messageID of ticket ticketID, in
// the transaction s is bound to, and returns them (without content). (Owned
// by the attachments work: this is the seam the ticket store calls.)
func (s *Store) AddAttachments(ctx context.Context, ticketID, messageID int64, files []billing.AttachmentUpload) ([]billing.TicketAttachment, error) {
	return []billing.TicketAttachment{}, nil
}
