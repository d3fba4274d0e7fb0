package billing_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestMessageWorkflowID: the one helper that names a message's workflow.
func TestMessageWorkflowID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "message-42", billing.MessageWorkflowID(42))
	require.Equal(t, "message-9223372036854775807", billing.MessageWorkflowID(1<<63-1))
}

// TestMessageCreateValidate: the limits of a message and its attachments.
func TestMessageCreateValidate(t *testing.T) {
	t.Parallel()
	ok := func() billing.MessageCreate {
		return billing.MessageCreate{Category: "info", Subject: "Hi", Text: "Hello",
			Attachments: []billing.MessageAttachment{{Name: "a.pdf", Content: []byte("%PDF")}}}
	}
	m := ok()
	require.NoError(t, m.Validate())
	require.Equal(t, "application/pdf", m.Attachments[0].ContentType, "the type comes from the name")
	big := make([]byte, billing.MaxAttachmentBytes)
	for name, tc := range map[string]struct {
		change func(*billing.MessageCreate)
		field  string
	}{
		"category":   {func(m *billing.MessageCreate) { m.Category = "spam" }, "category"},
		"subject":    {func(m *billing.MessageCreate) { m.Subject = "" }, "subject"},
		"text":       {func(m *billing.MessageCreate) { m.Text = " " }, "text"},
		"language":   {func(m *billing.MessageCreate) { m.Language = "not a language" }, "language"},
		"path":       {func(m *billing.MessageCreate) { m.Attachments[0].Name = "../etc/passwd" }, "attachments[0].name"},
		"empty file": {func(m *billing.MessageCreate) { m.Attachments[0].Content = nil }, "attachments[0].content"},
		"too big":    {func(m *billing.MessageCreate) { m.Attachments[0].Content = append(big, 1) }, "attachments[0].content"},
		"too much": {func(m *billing.MessageCreate) {
			m.Attachments = []billing.MessageAttachment{{Name: "a", Content: big}, {Name: "b", Content: big}, {Name: "c", Content: []byte("x")}}
		}, "attachments"},
		"too many":     {func(m *billing.MessageCreate) { m.Attachments = make([]billing.MessageAttachment, 4) }, "attachments"},
		"content type": {func(m *billing.MessageCreate) { m.Attachments[0].ContentType = "not a type" }, "attachments[0].content_type"},
	} {
		m := ok()
		tc.change(&m)
		err := m.Validate()
		var be *billing.Error
		require.ErrorAs(t, err, &be, name)
		require.Contains(t, be.Fields, tc.field, name)
	}
}
