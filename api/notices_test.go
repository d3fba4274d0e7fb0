package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestNoticeTemplates: staff replace a service notice's text and restore
// the built-in one. "resumed" is this test's alone (the authorization matrix
// uses "cancelled").
func TestNoticeTemplates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	item := func(milestone string) map[string]any {
		t.Helper()
		code, body := b.do("GET", "/api/v1/notice-templates", "")
		require.Equal(t, http.StatusOK, code)
		require.Len(t, body["variables"], 12)
		items := body["items"].([]any)
		require.Len(t, items, len(billing.ServiceMilestones))
		var found map[string]any
		for i, it := range items {
			m := it.(map[string]any)
			if i > 0 {
				require.Less(t, items[i-1].(map[string]any)["milestone"], m["milestone"], "in milestone order")
			}
			if m["milestone"] == milestone {
				found = m
			}
		}
		require.NotNil(t, found, milestone)
		return found
	}
	builtIn := item(billing.MilestoneResumed)
	require.Equal(t, false, builtIn["custom"])
	require.Equal(t, "[PAYMENT_NAME] is active again", builtIn["subject"])

	code, body := b.do("PUT", "/api/v1/notice-templates/nope", `not json`)
	require.Equal(t, http.StatusNotFound, code, "an unknown notice is a 404 whatever the body")
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, "resumed", "the error lists the notices there are")
	code, body = b.do("PUT", "/api/v1/notice-templates/resumed", `{"subject": "Back"}`)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	_, _, fields := errorOf(t, body)
	require.Contains(t, fields, "body")

	code, body = b.do("PUT", "/api/v1/notice-templates/resumed", `{"milestone": "deleted", "subject": "Back", "body": "Welcome back.", "custom": false}`)
	require.Equal(t, http.StatusOK, code)
	want := map[string]any{"milestone": "resumed", "subject": "Back", "body": "Welcome back.", "sms_body": "", "custom": true}
	require.Equal(t, want, body)
	require.Equal(t, want, item(billing.MilestoneResumed))

	code, body = b.do("DELETE", "/api/v1/notice-templates/resumed", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, builtIn, body)
	require.Equal(t, builtIn, item(billing.MilestoneResumed))
	code, _ = b.do("DELETE", "/api/v1/notice-templates/nope", "")
	require.Equal(t, http.StatusNotFound, code)
}
