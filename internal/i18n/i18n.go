package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// The languages envoi speaks. Anything else is shown in English.
const (
	English = "en"
	French  = "fr"
)

//go:embed locales/*.json
var locales embed.FS

// Catalog is the loaded set of messages in every supported language.
type Catalog struct {
	printers map[string]*Printer
}

// New loads the embedded catalogues. It fails only if a catalogue is
// malformed, which the package tests rule out.
func New() (*Catalog, error) {
	bundle := goi18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	files, err := fs.Glob(locales, "locales/*.json")
	if err != nil {
		return nil, fmt.Errorf("list catalogues: %w", err)
	}
	for _, name := range files {
		// go-i18n takes the language from the file name (locales/fr.json → fr).
		if _, err := bundle.LoadMessageFileFS(locales, name); err != nil {
			return nil, fmt.Errorf("load catalogue %s: %w", path.Base(name), err)
		}
	}
	c := &Catalog{printers: map[string]*Printer{}}
	for _, lang := range []string{English, French} {
		c.printers[lang] = &Printer{
			lang:   lang,
			loc:    goi18n.NewLocalizer(bundle, lang),
			format: formats[lang],
		}
	}
	return c, nil
}

// Printer returns the catalogue in lang, a BCP 47 tag such as "fr",
// "fr-FR" or "en-GB". Unknown or empty tags give English.
func (c *Catalog) Printer(lang string) *Printer {
	return c.printers[Match(lang)]
}

// Match reduces a language tag to a supported language: "fr" for any
// French tag, "en" for everything else.
func Match(lang string) string {
	tag, err := language.Parse(lang)
	if err != nil {
		return English
	}
	if base, _ := tag.Base(); base.String() == French {
		return French
	}
	return English
}

// Negotiate picks the language for an HTTP Accept-Language header: the
// first language, by the client's preference, that envoi speaks; English if
// none is (or the header is absent or malformed).
func Negotiate(acceptLanguage string) string {
	// Tags come back sorted by quality, and those with q=0 are dropped.
	tags, _, _ := language.ParseAcceptLanguage(acceptLanguage)
	for _, tag := range tags {
		switch base, _ := tag.Base(); base.String() {
		case French:
			return French
		case English:
			return English
		}
	}
	return English
}

// Printer translates and formats in one language.
type Printer struct {
	lang   string
	loc    *goi18n.Localizer
	format format
}

// Lang is the printer's language: "en" or "fr".
func (p *Printer) Lang() string { return p.lang }

// T returns the message for key, filled with data. A "Count" entry in data
// also chooses the plural form ("one" or "other"). A key missing from the
// catalogues is returned as is, so a mistake shows on the page instead of
// an empty string.
func (p *Printer) T(key string, data ...map[string]any) string {
	cfg := &goi18n.LocalizeConfig{MessageID: key}
	if len(data) > 0 {
		merged := map[string]any{}
		for _, d := range data {
			maps.Copy(merged, d)
		}
		cfg.TemplateData = merged
		if n, ok := merged["Count"]; ok {
			cfg.PluralCount = n
		}
	}
	// Localize still returns the English text, with an error, when a key is
	// missing only in French; only show the key when there is no text at all.
	msg, err := p.loc.Localize(cfg)
	if err != nil && msg == "" {
		return key
	}
	return msg
}
