package inbound

import "fmt"

// Limits bound what Parse accepts; a zero field means no limit.
type Limits struct {
	MaxSize           int64 // the raw mail, headers included, in bytes
	MaxAttachmentSize int64 // one decoded attachment, in bytes
	MaxAttachments    int   // attachments, inline images included
}

// DefaultLimits are the gateway's limits unless it is configured otherwise:
// 25 MB a mail (what the big mail providers accept), 10 MB an attachment
// and 20 attachments.
func DefaultLimits() Limits {
	return Limits{MaxSize: 25 << 20, MaxAttachmentSize: 10 << 20, MaxAttachments: 20}
}

// size writes n bytes for a person: "1039 bytes", "12.0 KB", "3.5 MB".
func size(n int64) string {
	switch {
	case n < 10<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
}
