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
)

// startPayerVerification emails the customer's main user a one-time link
// that confirms payer p, when the settings verify payers of p's type. The
// link leads to the client panel (PublicURL), which posts its token to
// POST /payer-verifications: a mail scanner that opens links confirms
// nothing.
func (s *Server) startPayerVerification(ctx context.Context, p billing.Payer) (billing.Payer, error) {
	settings, err := s.settings(ctx)
	if err != nil || !settings.PayerVerification.For(p.Type) {
		return p, err
	}
	token := "pv_" + rand.Text()
	sum := sha256.Sum256([]byte(token))
	expires := time.Now().Add(billing.PayerVerificationTTL)
	p, err = s.store.StartPayerVerification(ctx, p.CustomerID, p.ID, sum[:], expires)
	if err != nil {
		return p, err
	}
	link := s.publicURL + "/payer-verification?token=" + url.QueryEscape(token)
	_, err = activities.QueueEvent(ctx, s.store, activities.SendEventInput{Event: notices.EventPayerVerification,
		CustomerID: p.CustomerID, ObjectType: notices.ObjectPayer, ObjectID: strconv.FormatInt(p.ID, 10),
		Key: strconv.FormatInt(expires.UnixNano(), 10), RetryFor: billing.PayerVerificationTTL,
		Vars: map[string]string{"[PAYER_NAME]": p.LegalName, "[VERIFICATION_URL]": link,
			"[LINK_EXPIRES]": expires.UTC().Format("2006-01-02 15:04 UTC")}}, s.defaults.DefaultLanguage)
	return p, err
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
	p, n, err := s.store.VerifyPayer(ctx, id, payerID, in)
	if err != nil {
		return err
	}
	if in.RequestInfo {
		_, err = activities.QueueEvent(ctx, s.store, activities.SendEventInput{Event: notices.EventClientVerificationInfo,
			CustomerID: id, ObjectType: notices.ObjectPayer, ObjectID: strconv.FormatInt(p.ID, 10), Key: strconv.Itoa(n),
			Vars: map[string]string{"[PAYER_NAME]": p.LegalName, "[REQUESTED_INFO]": in.Comment}}, s.defaults.DefaultLanguage)
		if err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, p)
}
