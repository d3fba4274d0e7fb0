package billing_test

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

var (
	pngFile = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
	pdfFile = []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
	exeFile = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 64)...)
)

func zipFile(t *testing.T) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("word/document.xml")
	require.NoError(t, err)
	_, err = f.Write([]byte("<w:document/>"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// TestCheckAttachmentsTypes: the stored type is the sniffed one, or the
// declared one where it specialises it; HTML, SVG, XML and executables are
// refused by content, declared type or name, each error naming the file.
func TestCheckAttachmentsTypes(t *testing.T) {
	t.Parallel()
	docx := "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	for _, tc := range []struct {
		name, declared string
		content        []byte
		want           string // the type stored
		field, problem string // or the field error
	}{
		{"screen.png", "image/png", pngFile, "image/png", "", ""},
		{"screen.png", "", pngFile, "image/png", "", ""},
		{"invoice.pdf", "application/octet-stream", pdfFile, "application/pdf", "", ""},
		{"invoice.pdf", "image/png", pdfFile, "application/pdf", "", ""}, // the content decides
		{"error.log", "", []byte("2026-11-22 panic: oops\n"), "text/plain; charset=utf-8", "", ""},
		{"usage.csv", "text/csv", []byte("a,b\n1,2\n"), "text/csv; charset=utf-8", "", ""},
		{"report.docx", docx, zipFile(t), docx, "", ""},
		{"backup.zip", "application/zip", zipFile(t), "application/zip", "", ""},
		{"notes.txt", "text/plain", []byte{}, "text/plain; charset=utf-8", "", ""},
		{"page.txt", "text/plain", []byte("<!DOCTYPE html><html><script>alert(1)</script>"), "", "content", "text/html"},
		{"logo.png", "image/png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "", "content", "SVG"},
		{"logo.txt", "text/plain", []byte(`<?xml version="1.0"?><svg/>`), "", "content", "text/xml"},
		{"logo.svg", "", []byte("just text"), "", "name", ".svg files"},
		{"notes.txt", "image/svg+xml", []byte("just text"), "", "content_type", "image/svg+xml is not accepted"},
		{"notes.txt", "text/html; charset=utf-8", []byte("just text"), "", "content_type", "text/html is not accepted"},
		{"setup.exe", "", exeFile, "", "name", ".exe files"},
		{"setup.bin", "application/octet-stream", exeFile, "", "content", "application/octet-stream, which is not accepted"},
		{"notes.txt", "not a type", []byte("x"), "", "content_type", "media type"},
	} {
		ok := billing.AttachmentUpload{Name: "ok.txt", Content: []byte("fine")}
		types, err := billing.CheckAttachments([]billing.AttachmentUpload{ok, {Name: tc.name, ContentType: tc.declared, Content: tc.content}})
		if tc.field == "" {
			require.NoError(t, err, "%s as %q", tc.name, tc.declared)
			require.Equal(t, []string{"text/plain; charset=utf-8", tc.want}, types, tc.name)
			continue
		}
		require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "%s as %q: %v", tc.name, tc.declared, err)
		fields := err.(*billing.Error).Fields
		require.Len(t, fields, 1, "%v", fields)
		require.Contains(t, fields["attachments[1]."+tc.field], tc.problem, "%s as %q: %v", tc.name, tc.declared, fields)
	}
}

// TestCheckAttachmentsLimits: at most 10 files (invalid), 5 MiB a file and
// 10 MiB a message (too_large), names of 1..255 characters without path
// separators or control characters.
func TestCheckAttachmentsLimits(t *testing.T) {
	t.Parallel()
	file := func(name string, size int) billing.AttachmentUpload {
		return billing.AttachmentUpload{Name: name, Content: bytes.Repeat([]byte("a"), size)}
	}
	many := func(n, size int) []billing.AttachmentUpload {
		out := make([]billing.AttachmentUpload, n)
		for i := range out {
			out[i] = file("f.txt", size)
		}
		return out
	}
	for _, tc := range []struct {
		what        string
		files       []billing.AttachmentUpload
		code, field string
	}{
		{"10 files", many(10, 10), "", ""},
		{"11 files", many(11, 10), billing.EINVALID, "attachments"},
		{"a file of 5 MiB", []billing.AttachmentUpload{file("a.txt", 5<<20)}, "", ""},
		{"a file over 5 MiB", []billing.AttachmentUpload{file("a.txt", 1), file("b.txt", 5<<20+1)}, billing.ETOOLARGE, "attachments[1].content"},
		{"10 MiB together", many(2, 5<<20), "", ""},
		{"over 10 MiB together", many(3, 4<<20), billing.ETOOLARGE, "attachments"},
		{"no name", []billing.AttachmentUpload{file("", 1)}, billing.EINVALID, "attachments[0].name"},
		{"255 characters", []billing.AttachmentUpload{file(strings.Repeat("ä", 251)+".txt", 1)}, "", ""},
		{"256 characters", []billing.AttachmentUpload{file(strings.Repeat("ä", 252)+".txt", 1)}, billing.EINVALID, "attachments[0].name"},
		{"a path", []billing.AttachmentUpload{file("ok.txt", 1), file("../etc/passwd", 1)}, billing.EINVALID, "attachments[1].name"},
		{"a Windows path", []billing.AttachmentUpload{file(`C:\boot.ini`, 1)}, billing.EINVALID, "attachments[0].name"},
		{"a control character", []billing.AttachmentUpload{file("a\nb.txt", 1)}, billing.EINVALID, "attachments[0].name"},
		{"a bidi override", []billing.AttachmentUpload{file("Ann\u202Efdp.exe.txt", 1)}, billing.EINVALID, "attachments[0].name"},
		{"dot dot", []billing.AttachmentUpload{file("..", 1)}, billing.EINVALID, "attachments[0].name"},
	} {
		_, err := billing.CheckAttachments(tc.files)
		if tc.code == "" {
			require.NoError(t, err, tc.what)
			continue
		}
		require.Equal(t, tc.code, billing.ErrorCode(err), "%s: %v", tc.what, err)
		require.Contains(t, err.(*billing.Error).Fields, tc.field, "%s: %v", tc.what, err)
	}
}
