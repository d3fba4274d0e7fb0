// Package twiliotest is a fake of Twilio's Messages API in the test
// process, for tests that point twilio-go at it (sms.NewTwilio with its
// Client) and look at the SMS it received.
package twiliotest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Message is an SMS the fake received.
type Message struct {
	AccountSID, To, From, Body string
}

// Server is the fake: it creates every message it is sent.
type Server struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []Message
}

// Start starts a fake; Close stops it.
func Start() *Server {
	s := &Server{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", s.create)
	s.srv = httptest.NewServer(mux)
	return s
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.msgs = append(s.msgs, Message{AccountSID: r.PathValue("sid"), To: r.PostForm.Get("To"),
		From: r.PostForm.Get("From"), Body: r.PostForm.Get("Body")})
	n := len(s.msgs)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = fmt.Fprintf(w, `{"sid": "SM%030d", "status": "queued"}`, n)
}

// Client is an HTTP client that sends every request, whatever its host
// (api.twilio.com), to the fake.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: rewrite{s.srv.Listener.Addr().String()}}
}

// Messages returns the messages received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

type rewrite struct{ addr string }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = "http", r.addr
	return http.DefaultTransport.RoundTrip(req)
}
