package main

import (
	"context"

	"flag"
	"fmt"
	"io"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/password"
	"github.com/tempobill/billing/store"
)

// adminCreate is "billing admin create --login L --email E [--name N] [--password P]":
// it creates an admin and prints the password if it generated one.
func adminCreate(ctx context.Context, m *Main, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("billing admin create", flag.ContinueOnError)
	var in billing.StaffCreate
	fs.StringVar(&in.Login, "login", "", "login of the new admin (required)")
	fs.StringVar(&in.Email, "email", "", "email of the new admin (required)")
	fs.StringVar(&in.Name, "name", "", "name of the new admin")
	fs.StringVar(&in.Password, "password", "", "password (10 to 200 characters); generated and printed if left out")
	if err := fs.Parse(args); err != nil {
		return err
	}
	in.Role = billing.RoleAdmin
	if err := in.Validate(); err != nil {
		return err
	}
	if err := m.Migrate(ctx); err != nil {
		return err
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	_, pw, err := createAdmin(ctx, m.Store, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "admin %q created", in.Login)
	if pw != "" {
		fmt.Fprintf(out, " with password %s (shown once)", pw)
	}
	fmt.Fprintln(out)
	return nil
}

func createAdmin(ctx context.Context, st *store.Store, in billing.StaffCreate) (billing.Staff, string, error) {
	hash, generated, err := password.HashOrGenerate(in.Password)
	if err != nil {
		return billing.Staff{}, "", err
	}
	ctx = billing.WithAudit(ctx, billing.NewAuditEntry(billing.Principal{Kind: billing.ActorSystem}, "createAdmin", ""))
	s, err := st.CreateStaff(ctx, in, hash)
	return s, generated, err
}

// firstAdmin creates the admin "admin" when no staff exist yet, and returns
// the line to print with its password; "" when staff exist.
func firstAdmin(ctx context.Context, st *store.Store) (string, error) {
	n, err := st.CountStaff(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	_, pw, err := createAdmin(ctx, st, billing.StaffCreate{Login: "admin", Email: "admin@example.com",
		Name: "Administrator", Role: billing.RoleAdmin, Permissions: []string{}})
	if billing.ErrorCode(err) == billing.ECONFLICT {
		return "", nil // created meanwhile by another process
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("  First admin   login admin, password %s (shown once; sign in with POST /api/v1/auth/staff/login)\n", pw), nil
}
