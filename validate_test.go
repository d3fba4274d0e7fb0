package billing_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestTextRefusesBidiControls: every bidirectional control is refused in
// every kind of text and in email addresses, and right-to-left text itself
// is not.
func TestTextRefusesBidiControls(t *testing.T) {
	t.Parallel()
	checks := map[string]func(v *billing.Validator, s string){
		"Text":         func(v *billing.Validator, s string) { v.Text("f", s, 100) },
		"OptionalText": func(v *billing.Validator, s string) { v.OptionalText("f", s, 100) },
		"LongText":     func(v *billing.Validator, s string) { v.LongText("f", s, 100) },
	}
	for name, check := range checks {
		for _, r := range []rune{0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069} {
			var v billing.Validator
			check(&v, "Ann "+string(r)+"fdp.exe")
			require.Error(t, v.Err(), "%s accepts %U", name, r)
		}
		var v billing.Validator
		check(&v, "שלום עליכם, مرحبا")
		require.NoError(t, v.Err(), "%s refuses right-to-left text", name)
	}
	for _, email := range []string{"ann\u202e@example.com", "ann@exa\u2066mple.com"} {
		require.False(t, billing.ValidEmail(email), "%+q", email)
	}
}
