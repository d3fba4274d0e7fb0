package notices

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"golang.org/x/text/language"

	"github.com/tempobill/billing"
)

// The built-in templates are files embedded in the binary, one folder per
// language (templates/en/...), named after the event:
//
//   - <event>.email: header lines ("Subject: ...", and optionally
//     "Sender-Name: ..." and "Reply-To: ..."), an empty line, then the text body;
//   - <event>.html: the email's HTML body, if it has one;
//   - <event>.sms: the SMS text.
//
//go:embed templates
var files embed.FS

// TemplateKey names one template: an event's message on a channel in a language.
type TemplateKey struct{ Event, Channel, Language string }

// Key returns t's key.
func Key(t billing.MessageTemplate) TemplateKey { return TemplateKey{t.Event, t.Channel, t.Language} }

// defaults are the built-in templates, read once from files.
var defaults = func() map[TemplateKey]billing.MessageTemplate {
	out, err := parseDefaults(files)
	if err != nil {
		panic(err) // a broken file is a bug that TestDefaults catches
	}
	return out
}()

func parseDefaults(fsys fs.FS) (map[TemplateKey]billing.MessageTemplate, error) {
	out := map[TemplateKey]billing.MessageTemplate{}
	err := fs.WalkDir(fsys, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		lang := path.Base(path.Dir(p))
		name, ext, _ := strings.Cut(path.Base(p), ".")
		email := TemplateKey{name, billing.ChannelEmail, lang}
		t := out[email]
		t.Event, t.Channel, t.Language = name, billing.ChannelEmail, lang
		switch ext {
		case "email":
			head, body, ok := strings.Cut(string(raw), "\n\n")
			if !ok {
				return fmt.Errorf("%s: no empty line between the headers and the body", p)
			}
			for line := range strings.SplitSeq(head, "\n") {
				k, v, _ := strings.Cut(line, ":")
				v = strings.TrimSpace(v)
				switch k {
				case "Subject":
					t.Subject = v
				case "Sender-Name":
					t.SenderName = v
				case "Reply-To":
					t.ReplyTo = v
				default:
					return fmt.Errorf("%s: unknown header %q (Subject, Sender-Name, Reply-To)", p, k)
				}
			}
			t.Body = body
		case "html":
			t.HTMLBody = string(raw)
		case "sms":
			out[TemplateKey{name, billing.ChannelSMS, lang}] = billing.MessageTemplate{Event: name, Channel: billing.ChannelSMS,
				Language: lang, Body: strings.TrimRight(string(raw), "\n")}
			return nil
		default:
			return fmt.Errorf("%s: unknown kind of file (.email, .html, .sms)", p)
		}
		out[email] = t
		return nil
	})
	return out, err
}

// Defaults lists the built-in templates, by event, channel and language.
func Defaults() []billing.MessageTemplate {
	out := make([]billing.MessageTemplate, 0, len(defaults))
	for _, t := range defaults {
		out = append(out, t)
	}
	SortTemplates(out)
	return out
}

// SortTemplates sorts ts in the registry's event order, then by channel
// and language.
func SortTemplates(ts []billing.MessageTemplate) {
	order := map[string]int{}
	for i, e := range events {
		order[e.Name] = i
	}
	slices.SortFunc(ts, func(a, b billing.MessageTemplate) int {
		if c := order[a.Event] - order[b.Event]; c != 0 {
			return c
		}
		return strings.Compare(a.Channel+" "+a.Language, b.Channel+" "+b.Language)
	})
}

// Default returns the built-in template of key, if there is one.
func Default(key TemplateKey) (billing.MessageTemplate, bool) {
	t, ok := defaults[key]
	return t, ok
}

// DefaultLanguage is the language used when neither the recipient's nor
// the customer's has a template (until the global settings set another).
const DefaultLanguage = "en"

// Languages is the order in which templates are looked for: the recipient's
// language, the customer's, the default language, then English (the built-in
// texts' language, so that something always goes out). Each is followed by
// its usual form (pt-br, then pt-BR; templates are kept under it) and a
// regional tag by its base language (pt-BR, then pt). Empty and repeated ones
// are left out.
func Languages(recipient, customer, def string) []string {
	var out []string
	for _, l := range []string{recipient, customer, def, DefaultLanguage} {
		if l == "" {
			continue
		}
		cands := []string{l}
		if tag, err := language.Parse(l); err == nil {
			// Templates are kept under the usual form (de, pt-BR): a user's
			// DE or pt-br finds them.
			cands = append(cands, tag.String())
			if base, conf := tag.Base(); conf != language.No {
				cands = append(cands, base.String())
			}
		}
		for _, c := range cands {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// Catalog finds the template of an event's message: staff's templates
// (Custom) win over the built-in ones, language by language.
type Catalog struct {
	Custom map[TemplateKey]billing.MessageTemplate
}

// Find returns the template of event on channel in the first of langs that
// has one (staff's, else built-in). An SMS template with an empty text turns
// SMS off for that language: Find reports false, without looking further.
func (c Catalog) Find(event, channel string, langs []string) (billing.MessageTemplate, bool) {
	for _, l := range langs {
		k := TemplateKey{event, channel, l}
		t, ok := c.Custom[k]
		if ok {
			t.Custom = true
		} else {
			t, ok = defaults[k]
		}
		if ok {
			return t, t.Body != ""
		}
	}
	return billing.MessageTemplate{}, false
}

// Effective returns the template in use for key: staff's, else the
// built-in one, else false.
func (c Catalog) Effective(key TemplateKey) (billing.MessageTemplate, bool) {
	if t, ok := c.Custom[key]; ok {
		t.Custom = true
		return t, true
	}
	return Default(key)
}

// CheckTemplate validates t for saving: its event exists (else not found),
// takes templates and goes by t's channel, its fields are valid and it uses
// only the event's variables.
func CheckTemplate(t billing.MessageTemplate) error {
	e, err := Lookup(t.Event)
	if err != nil {
		return err
	}
	if e.ProductTexts {
		return &billing.Error{Code: billing.EINVALID, Message: fmt.Sprintf(
			"the texts of the payment state %s are the product's: set them with PUT /products/{id} (payment_states)", e.Name),
			Fields: map[string]string{"event": "is a product payment state"}}
	}
	if !e.Sends(t.Channel) && (t.Channel == billing.ChannelEmail || t.Channel == billing.ChannelSMS) {
		return &billing.Error{Code: billing.EINVALID, Message: fmt.Sprintf("the event %s goes by %s only", e.Name,
			strings.Join(e.Channels, " and ")), Fields: map[string]string{"channel": "is not one of the event's channels"}}
	}
	if err := t.Validate(); err != nil {
		return err
	}
	return CheckVariables(e, t)
}
