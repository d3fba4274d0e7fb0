package billing

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strings"
)

// AttachmentUpload is a file posted with a ticket message (by the API,
// base64 in JSON, or by the mail gateway).
type AttachmentUpload struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Content     []byte `json:"content"` // base64 in JSON
}

// Limits of the files attached to one ticket message.
const (
	MaxTicketAttachments     = 10       // files per message
	MaxTicketAttachmentSize  = 5 << 20  // bytes per file
	MaxTicketAttachmentsSize = 10 << 20 // bytes of all the files of a message
	maxTicketAttachmentName  = 255
)

// AcceptedAttachments says which files a message takes, for error messages.
const AcceptedAttachments = "images (PNG, JPEG, GIF, WebP), PDF, plain text, CSV, logs, ZIP and office documents (DOCX, XLSX, PPTX, ODT, ODS, ODP)"

// CheckAttachments validates the files of one message and returns the
// content type to store and serve for each. Too many files, or a bad name or
// type, is EINVALID; a file over 5 MiB or files over 10 MiB together is
// ETOOLARGE. Each field error names its file: attachments[2].content.
//
// The type is never the sender's word alone: the content is sniffed
// (net/http.DetectContentType, the WHATWG algorithm browsers use), and the
// declared type is kept only where it specialises the sniffed one (text/csv
// for text, an office format for a ZIP). HTML, SVG, XML, scripts and
// executables are refused, by content, declared type or name.
func CheckAttachments(files []AttachmentUpload) ([]string, error) {
	var v Validator
	if len(files) > MaxTicketAttachments {
		v.Check(false, "attachments", fmt.Sprintf("at most %d files can be attached to a message; %d were sent", MaxTicketAttachments, len(files)))
		return nil, v.Err()
	}
	total := 0
	for i, f := range files {
		total += len(f.Content)
		v.Check(len(f.Content) <= MaxTicketAttachmentSize, field(i, "content"),
			fmt.Sprintf("is %s; a file can be at most 5 MiB", sizeText(len(f.Content))))
	}
	v.Check(total <= MaxTicketAttachmentsSize, "attachments", fmt.Sprintf("the files take %s together; a message's files can take at most 10 MiB", sizeText(total)))
	if err := v.Err(); err != nil {
		e := err.(*Error)
		e.Code, e.Message = ETOOLARGE, "the attached files are too large; see fields"
		return nil, e
	}
	types := make([]string, len(files))
	for i, f := range files {
		checkAttachmentName(&v, field(i, "name"), f.Name)
		t, part, problem := attachmentType(f.Name, f.ContentType, f.Content)
		v.Check(problem == "", field(i, part), problem)
		types[i] = t
	}
	return types, v.Err()
}

func field(i int, name string) string { return fmt.Sprintf("attachments[%d].%s", i, name) }

func sizeText(n int) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func checkAttachmentName(v *Validator, f, name string) {
	v.Text(f, name, maxTicketAttachmentName)
	v.Check(!strings.ContainsAny(name, `/\`), f, "must be a file name without / or \\")
	v.Check(name != "." && name != "..", f, "must be a file name")
}

// refusedTypes are declared types that are refused whatever the content:
// what a browser would render or run.
var refusedTypes = []string{"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
	"text/javascript", "application/javascript", "application/x-msdownload", "application/x-msdos-program",
	"application/vnd.microsoft.portable-executable", "application/x-executable", "application/x-sh"}

// refusedExtensions are names that are refused whatever the content.
var refusedExtensions = []string{".html", ".htm", ".xhtml", ".shtml", ".svg", ".svgz", ".xml", ".js", ".mjs",
	".exe", ".dll", ".com", ".scr", ".msi", ".bat", ".cmd", ".ps1", ".vbs", ".jar", ".apk", ".hta", ".lnk"}

// zipTypes are the declared types a sniffed ZIP keeps: the office formats
// that are ZIP archives.
func zipType(declared string) bool {
	return strings.HasPrefix(declared, "application/vnd.openxmlformats-officedocument.") ||
		strings.HasPrefix(declared, "application/vnd.oasis.opendocument.")
}

// textTypes are the declared types a sniffed text keeps.
var textTypes = []string{"text/csv", "text/tab-separated-values"}

// attachmentType returns the type to store for a file, or a problem and
// the part of the file that shows it (content, content_type or name).
func attachmentType(name, declared string, content []byte) (string, string, string) {
	decl, _, err := mime.ParseMediaType(declared)
	if declared == "" {
		decl, err = "", nil
	}
	if err != nil {
		return "", "content_type", "must be a media type such as application/pdf"
	}
	ext := strings.ToLower(path.Ext(name))
	for _, t := range refusedTypes {
		if decl == t {
			return "", "content_type", decl + " is not accepted; attach " + AcceptedAttachments
		}
	}
	for _, e := range refusedExtensions {
		if ext == e {
			return "", "name", e + " files are not accepted; attach " + AcceptedAttachments
		}
	}
	sniffed, params, _ := mime.ParseMediaType(http.DetectContentType(content))
	switch sniffed {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf":
		return sniffed, "", ""
	case "application/zip":
		if zipType(decl) {
			return decl, "", ""
		}
		return sniffed, "", ""
	case "text/plain":
		// An SVG starts like text: the sniffer knows no <svg> tag.
		head := bytes.ToLower(bytes.TrimLeft(content[:min(len(content), 1024)], "\ufeff \t\r\n"))
		if bytes.HasPrefix(head, []byte("<svg")) || bytes.HasPrefix(head, []byte("<?xml")) {
			return "", "content", "SVG and XML are not accepted; attach " + AcceptedAttachments
		}
		t := sniffed
		for _, tt := range textTypes {
			if decl == tt {
				t = decl
			}
		}
		return mime.FormatMediaType(t, map[string]string{"charset": params["charset"]}), "", ""
	}
	return "", "content", "is " + sniffed + ", which is not accepted; attach " + AcceptedAttachments
}
