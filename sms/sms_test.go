package sms

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// rewrite sends every request to a local fake of Twilio's API.
type rewrite struct{ target *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
	return http.DefaultTransport.RoundTrip(req)
}

func TestTwilioSend(t *testing.T) {
	t.Parallel()
	var form url.Values
	var path, user string
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		form, path = r.PostForm, r.URL.Path
		user, _, _ = r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"sid": "SM123", "status": "queued"}`))
	}))
	defer fake.Close()
	target, _ := url.Parse(fake.URL)
	tw := NewTwilio("AC1", "token", "+15005550006", &http.Client{Transport: rewrite{target}})
	id, err := tw.Send(context.Background(), "+4915112345678", "VPS renewed")
	require.NoError(t, err)
	require.Equal(t, "SM123", id)
	require.Equal(t, "/2010-04-01/Accounts/AC1/Messages.json", path)
	require.Equal(t, "AC1", user)
	require.Equal(t, "+4915112345678", form.Get("To"))
	require.Equal(t, "+15005550006", form.Get("From"))
	require.Equal(t, "VPS renewed", form.Get("Body"))
}

func TestLog(t *testing.T) {
	t.Parallel()
	l := &Log{Path: filepath.Join(t.TempDir(), "sms.log")}
	id, err := l.Send(context.Background(), "+4915112345678", "hello")
	require.NoError(t, err)
	raw, err := os.ReadFile(l.Path)
	require.NoError(t, err)
	require.True(t, strings.Contains(string(raw), id) && strings.Contains(string(raw), `"hello"`))
}
