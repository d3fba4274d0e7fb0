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
	// TextID is the saved text it was sent from (null if typed, or if
	// that text was deleted since).
	TextID *int64 `json:"text_id"`
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

// MessageCreate is what staff send. With TextID, the saved text fills
// Category, Subject and Text, except those given (see FromText).
type MessageCreate struct {
	TextID      *int64              `json:"text_id"`
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

// FromText fills in what the message leaves empty (category, subject,
// text) from the saved text t, and records that it came from t: what was
// typed alongside overrides the saved text.
func (m *MessageCreate) FromText(t MessageText) {
	m.TextID = &t.ID
	if m.Category == "" {
		m.Category = t.Category
	}
	if m.Subject == "" {
		m.Subject = t.Subject
	}
	if m.Text == "" {
		m.Text = t.Text
	}
}

// Validate checks a message and fills in attachments' content types from
// their names when left out.
func (m *MessageCreate) Validate() error {
	var v Validator
	v.Check(m.CustomerID == nil || *m.CustomerID > 0, "customer_id", "must be a customer's ID")
	if m.Language != "" {
		v.Language("language", m.Language)
	}
	v.Check(m.TextID == nil || *m.TextID > 0, "text_id", "must be a saved text's ID")
	validateMessageText(&v, m.Category, m.Subject, m.Text)
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

// validateMessageText checks what a message and a saved text have alike.
func validateMessageText(v *Validator, category, subject, text string) {
	v.OneOf("category", category, MessageCategories...)
	v.Text("subject", subject, maxMessageSubjectChars)
	v.Check(strings.TrimSpace(text) != "", "text", "is required")
	v.LongText("text", text, maxMessageTextChars)
}

// Limits of a message's subject and text, and of a saved text's.
const (
	maxMessageSubjectChars = 200
	maxMessageTextChars    = 20000
	maxMessageTextName     = 100
)

// MessageText is a saved message text: staff send a message from it
// (text_id) instead of typing its category, subject and text.
type MessageText struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Category  string    `json:"category"`
	Subject   string    `json:"subject"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MessageTextInput is a saved text as staff create or replace it.
type MessageTextInput struct {
	Name     string `json:"name"`
	Category string `json:"category"`
	Subject  string `json:"subject"`
	Text     string `json:"text"`
}

// Validate checks a saved text: a name (unique, which the store checks)
// and what a message would need.
func (in *MessageTextInput) Validate() error {
	var v Validator
	v.Text("name", in.Name, maxMessageTextName)
	validateMessageText(&v, in.Category, in.Subject, in.Text)
	return v.Err()
}
