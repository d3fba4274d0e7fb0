package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// startPayerVerification emails the customer's main user a one-time link
// that confirms payer p, when the settings verify payers of p's type. The
// link leads to the client panel (PublicURL), which posts its token to
// POST /payer-verifications: a mail scanner that opens links confirms
// nothing. st is the transaction that added the payer: the payer, its
// pending state and the notice land together or not at all.
func (s *Server) startPayerVerification(ctx context.Context, st *store.Store, p billing.Payer) (billing.Payer, error) {
	settings, err := s.settings(ctx)
	if err != nil || !settings.PayerVerification.For(p.Type) {
		return p, err
	}
	token := "pv_" + rand.Text()
	sum := sha256.Sum256([]byte(token))
	expires := time.Now().Add(billing.PayerVerificationTTL)
	link := s.publicURL + "/payer-verification?token=" + url.QueryEscape(token)
	if p, err = st.StartPayerVerification(ctx, p.CustomerID, p.ID, sum[:], expires); err != nil {
		return p, err
	}
	return p, s.queue(ctx, st, activities.SendEventInput{Event: notices.EventPayerVerification,
		CustomerID: p.CustomerID, ObjectType: notices.ObjectPayer, ObjectID: strconv.FormatInt(p.ID, 10),
		Key: strconv.FormatInt(expires.UnixNano(), 10), RetryFor: billing.PayerVerificationTTL,
		Vars: map[string]string{"[PAYER_NAME]": p.LegalName, "[VERIFICATION_URL]": link,
			"[LINK_EXPIRES]": expires.UTC().Format("2006-01-02 15:04 UTC")}})
}

// PayerConfirmation is the body of POST /payer-verifications.
type PayerConfirmation struct {
	Token string `json:"token"`
}

// confirmPayer is the public end of a payer_verification link.
func (s *Server) confirmPayer(c echo.Context) error {
	var in PayerConfirmation
	if err := bind(c, &in); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(in.Token))
	p, err := s.store.ConfirmPayer(c.Request().Context(), sum[:])
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"payer_id": p.ID, "legal_name": p.LegalName, "verification": p.Verification})
}

// verifyPayer is staff's manual verification: verified, or more information
// requested, which tells every user of the customer what is needed.
func (s *Server) verifyPayer(c echo.Context) error {
	id, payerID, err := nestedIDs(c, "payer_id", "payer")
	if err != nil {
		return err
	}
	var in billing.PayerVerify
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var p billing.Payer
	// The decision and the request's notice land together or not at all.
	err = s.store.Tx(ctx, func(st *store.Store) error {
		var n int
		if p, n, err = st.VerifyPayer(ctx, id, payerID, in); err != nil || !in.RequestInfo {
			return err
		}
		return s.queue(ctx, st, activities.SendEventInput{Event: notices.EventClientVerificationInfo,
			CustomerID: id, ObjectType: notices.ObjectPayer, ObjectID: strconv.FormatInt(p.ID, 10), Key: strconv.Itoa(n),
			Vars: map[string]string{"[PAYER_NAME]": p.LegalName, "[REQUESTED_INFO]": in.Comment}})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
