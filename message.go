package billing

import (
	"fmt"
	"mime"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MessageWorkflowID is the ID of the Temporal workflow that sends message
// id to its customers: the one place it is built.
func MessageWorkflowID(id int64) string {
	return "message-" + strconv.FormatInt(id, 10)
}

// Message categories: what a message to customers is about.
const (
	CategoryInfo        = "info"
	CategoryMaintenance = "maintenance"
	CategoryBilling     = "billing"
	CategoryPromo       = "promo"
)

// MessageCategories lists every category.
var MessageCategories = []string{CategoryInfo, CategoryMaintenance, CategoryBilling, CategoryPromo}

// Message statuses: sending until every customer has been reached
// (done), or until staff cancelled it (cancelled).
const (
	MessageSending   = "sending"
	MessageDone      = "done"
	MessageCancelled = "cancelled"
)

// Limits of a message's attachments: they travel base64-encoded in a JSON
// body the API takes up to 1 MB of, and go with every email.
const (
	MaxAttachments         = 3
	MaxAttachmentBytes     = 256 << 10
	MaxAttachmentsBytes    = 512 << 10
	maxAttachmentNameChars = 100
)

// Message is a message from staff to one customer or to all: its text, who
// it goes to and how far its sending is.
type Message struct {
	ID int64 `json:"id"`
	// CustomerID, if set, is the one customer it goes to; else all.
	CustomerID *int64 `json:"customer_id"`
	// Language, if set, keeps it to customers of that language.
	Language    string           `json:"language"`
	Category    string           `json:"category"`
	Subject     string           `json:"subject"`
	Text        string           `json:"text"`
	Attachments []AttachmentInfo `json:"attachments"`
	Rate        float64          `json:"rate"`
	Status      string           `json:"status"`
	Progress    MessageProgress  `json:"progress"`
	WorkflowID  string           `json:"workflow_id"`
	CreatedBy   *int64           `json:"created_by"`
	CreatedAt   time.Time        `json:"created_at"`
	FinishedAt  *time.Time       `json:"finished_at"`
}

// MessageProgress counts a message's recipients: Total users of the
// customers it goes to (known once sending starts), and what became of
// their emails as the notification log says. Pending are being sent or
// wait for the redelivery; Skipped were not reached because it was
// cancelled.
type MessageProgress struct {
	Total   int `json:"total"`
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
	Pending int `json:"pending"`
	Skipped int `json:"skipped"`
}

// AttachmentInfo describes one attachment without its content.
type AttachmentInfo struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
}

// MessageAttachment is a file that goes with every email of a message.
// Content arrives base64-encoded in JSON (encoding/json's []byte).
type MessageAttachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Content     []byte `json:"content"`
}

// MessageCreate is what staff send.
type MessageCreate struct {
	CustomerID  *int64              `json:"customer_id"`
	Language    string              `json:"language"`
	Category    string              `json:"category"`
	Subject     string              `json:"subject"`
	Text        string              `json:"text"`
	Attachments []MessageAttachment `json:"attachments"`
}

// MessageFilter selects messages.
type MessageFilter struct {
	Status string
	PageRequest
}

// Validate checks a message and fills in attachments' content types from
// their names when left out.
func (m *MessageCreate) Validate() error {
	var v Validator
	v.Check(m.CustomerID == nil || *m.CustomerID > 0, "customer_id", "must be a customer's ID")
	if m.Language != "" {
		v.Language("language", m.Language)
	}
	v.OneOf("category", m.Category, MessageCategories...)
	v.Text("subject", m.Subject, 200)
	v.Check(strings.TrimSpace(m.Text) != "", "text", "is required")
	v.LongText("text", m.Text, 20000)
	v.Check(len(m.Attachments) <= MaxAttachments, "attachments", fmt.Sprintf("must be at most %d files", MaxAttachments))
	total := 0
	for i := range m.Attachments {
		a := &m.Attachments[i]
		field := fmt.Sprintf("attachments[%d]", i)
		v.Text(field+".name", a.Name, maxAttachmentNameChars)
		v.Check(!strings.ContainsAny(a.Name, `/\`), field+".name", "must be a file name, not a path")
		if a.ContentType == "" {
			a.ContentType = mime.TypeByExtension(filepath.Ext(a.Name))
		}
		if a.ContentType == "" {
			a.ContentType = "application/octet-stream"
		}
		_, _, err := mime.ParseMediaType(a.ContentType)
		v.Check(err == nil, field+".content_type", "must be a media type such as application/pdf")
		v.Check(len(a.Content) > 0, field+".content", "is required (base64)")
		v.Check(len(a.Content) <= MaxAttachmentBytes, field+".content", fmt.Sprintf("must be at most %d bytes", MaxAttachmentBytes))
		total += len(a.Content)
	}
	v.Check(total <= MaxAttachmentsBytes, "attachments", fmt.Sprintf("must be at most %d bytes together", MaxAttachmentsBytes))
	return v.Err()
}
