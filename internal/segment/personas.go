package segment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

// MaxCharacteristics bounds a persona's characteristics text.
const MaxCharacteristics = 5000

const personaSelect = `SELECT p.id, p.name, p.description, p.characteristics, p.criteria, p.version, p.updated_at,
	u.first_name, u.last_name, u.email,
	EXISTS (SELECT 1 FROM persona_pictures pp WHERE pp.account_id = p.account_id AND pp.persona_id = p.id)
	FROM personas p LEFT JOIN users u ON u.id = p.updated_by`

func scanPersona(row interface{ Scan(...any) error }) (Persona, error) {
	var p Persona
	var raw string
	var at int64
	var first, last, email sql.NullString
	if err := row.Scan(&p.ID, &p.Name, &p.Description, &p.Characteristics, &raw, &p.Version, &at, &first, &last, &email, &p.HasPicture); err != nil {
		return Persona{}, err
	}
	n, err := criteria.Parse([]byte(raw))
	if err != nil {
		return Persona{}, fmt.Errorf("persona %d: stored criteria: %w", p.ID, err)
	}
	p.Criteria, p.UpdatedAt, p.UpdatedBy = n, time.UnixMilli(at), userName(first, last, email)
	return p, nil
}

func getPersona(ctx context.Context, q database.Querier, accountID, id int64) (Persona, error) {
	p, err := scanPersona(q.QueryRow(ctx, personaSelect+` WHERE p.account_id = $1 AND p.id = $2`, accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Persona{}, fault.Notf("persona not found").WithKey("targeting.persona_not_found")
	}
	return p, err
}

func listPersonas(ctx context.Context, q database.Querier, accountID int64) ([]Persona, error) {
	rows, err := q.Query(ctx, personaSelect+` WHERE p.account_id = $1 ORDER BY LOWER(p.name), p.id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Persona{}
	for rows.Next() {
		p, err := scanPersona(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ListPersonas returns the account's personas by name.
func (s *Service) ListPersonas(ctx context.Context, by rights.Actor) ([]Persona, error) {
	if err := s.read(by); err != nil {
		return nil, err
	}
	return listPersonas(ctx, s.DB.Read(), by.AccountID)
}

// GetPersona returns one persona.
func (s *Service) GetPersona(ctx context.Context, by rights.Actor, id int64) (Persona, error) {
	if err := s.read(by); err != nil {
		return Persona{}, err
	}
	return getPersona(ctx, s.DB.Read(), by.AccountID, id)
}

func checkPersonaText(in PersonaInput) (PersonaInput, error) {
	var err error
	if in.Name, in.Description, err = checkText(in.Name, in.Description); err != nil {
		return in, err
	}
	in.Characteristics = strings.TrimSpace(in.Characteristics)
	if len(in.Characteristics) > MaxCharacteristics {
		return in, fault.Invalidf("characteristics", "must be at most %d characters", MaxCharacteristics)
	}
	return in, nil
}

// CreatePersona saves a new persona; its criteria are validated first.
func (s *Service) CreatePersona(ctx context.Context, by rights.Actor, in PersonaInput) (Persona, error) {
	if err := s.write(by); err != nil {
		return Persona{}, err
	}
	in, err := checkPersonaText(in)
	if err != nil {
		return Persona{}, err
	}
	n, err := parseCriteria(in.Criteria)
	if err != nil {
		return Persona{}, err
	}
	now := s.Now()
	var out Persona
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		if err := lockAccount(ctx, q, by.AccountID); err != nil {
			return err
		}
		id, err := database.NewID(ctx, q)
		if err != nil {
			return err
		}
		cat, err := s.catalog(ctx, q, by.AccountID)
		if err != nil {
			return err
		}
		if err := criteria.Validate(n, criteria.WithPersona(cat, id, n)); err != nil {
			return err
		}
		text, err := encode(n)
		if err != nil {
			return err
		}
		_, err = q.Exec(ctx, `INSERT INTO personas (account_id, id, name, description, characteristics, criteria, created_at, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)`, by.AccountID, id, in.Name, in.Description, in.Characteristics, text, now.UnixMilli(), nullInt(by.UserID))
		if fault.Is(err, fault.Conflict) {
			return nameTaken("persona", in.Name)
		}
		if err != nil {
			return err
		}
		if err := history.Record(ctx, q, by, "persona.create", rights.Contacts, history.Object{Type: "persona", ID: id, Label: in.Name},
			[]history.Change{{Field: "description", After: in.Description}, {Field: "characteristics", After: in.Characteristics},
				{Field: "criteria", After: text}}, now); err != nil {
			return err
		}
		out, err = getPersona(ctx, q, by.AccountID, id)
		return err
	})
	return out, err
}

// UpdatePersona changes a persona (a nil in.Criteria keeps its criteria);
// version as for Update.
func (s *Service) UpdatePersona(ctx context.Context, by rights.Actor, id, version int64, in PersonaInput) (Persona, error) {
	if err := s.write(by); err != nil {
		return Persona{}, err
	}
	in, err := checkPersonaText(in)
	if err != nil {
		return Persona{}, err
	}
	var next *criteria.Node
	if in.Criteria != nil {
		n, err := parseCriteria(in.Criteria)
		if err != nil {
			return Persona{}, err
		}
		next = &n
	}
	now := s.Now()
	var out Persona
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		if err := lockAccount(ctx, q, by.AccountID); err != nil {
			return err
		}
		cur, err := getPersona(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		if version != 0 && version != cur.Version {
			return modified("persona", cur.UpdatedBy, cur.UpdatedAt)
		}
		before, err := encode(cur.Criteria)
		if err != nil {
			return err
		}
		after := before
		if next != nil {
			cat, err := s.catalog(ctx, q, by.AccountID)
			if err != nil {
				return err
			}
			if err := criteria.Validate(*next, criteria.WithPersona(cat, id, *next)); err != nil {
				return err
			}
			if after, err = encode(*next); err != nil {
				return err
			}
		}
		changes := textChanges(map[string][2]string{"name": {cur.Name, in.Name}, "description": {cur.Description, in.Description},
			"characteristics": {cur.Characteristics, in.Characteristics}, "criteria": {before, after}})
		if len(changes) == 0 {
			out = cur
			return nil
		}
		_, err = q.Exec(ctx, `UPDATE personas SET name = $3, description = $4, characteristics = $5, criteria = $6, updated_at = $7,
			updated_by = $8, version = version + 1 WHERE account_id = $1 AND id = $2`,
			by.AccountID, id, in.Name, in.Description, in.Characteristics, after, now.UnixMilli(), nullInt(by.UserID))
		if fault.Is(err, fault.Conflict) {
			return nameTaken("persona", in.Name)
		}
		if err != nil {
			return err
		}
		if err := history.Record(ctx, q, by, "persona.update", rights.Contacts, history.Object{Type: "persona", ID: id, Label: in.Name}, changes, now); err != nil {
			return err
		}
		out, err = getPersona(ctx, q, by.AccountID, id)
		return err
	})
	return out, err
}

// DeletePersona removes a persona and its picture, unless a segment or
// another persona refers to it.
func (s *Service) DeletePersona(ctx context.Context, by rights.Actor, id int64) error {
	if err := s.write(by); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		if err := lockAccount(ctx, q, by.AccountID); err != nil {
			return err
		}
		cur, err := getPersona(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		if err := refuseIfUsed(ctx, q, by.AccountID, "persona", id, cur.Name); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM persona_pictures WHERE account_id = $1 AND persona_id = $2`, by.AccountID, id); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM personas WHERE account_id = $1 AND id = $2`, by.AccountID, id); err != nil {
			return err
		}
		text, _ := encode(cur.Criteria)
		return history.Record(ctx, q, by, "persona.delete", rights.Contacts, history.Object{Type: "persona", ID: id, Label: cur.Name},
			[]history.Change{{Field: "characteristics", Before: cur.Characteristics}, {Field: "criteria", Before: text}}, now)
	})
}

// PictureTypes are the image types a persona's picture may have.
var PictureTypes = []string{"image/png", "image/jpeg", "image/webp"}

// SetPicture sets a persona's picture: a PNG, JPEG or WebP image (the type
// is read from the data, whatever contentType says) of at most MaxPicture
// bytes. It counts as a change of the persona (version, history). Another
// account's persona is not found, whatever the data.
func (s *Service) SetPicture(ctx context.Context, by rights.Actor, id int64, contentType string, data []byte) error {
	if err := s.write(by); err != nil {
		return err
	}
	return s.changePicture(ctx, by, id, data, func() (string, error) { return pictureType(data) })
}

// pictureType is the sniffed type of an acceptable picture.
func pictureType(data []byte) (string, error) {
	if len(data) == 0 {
		return "", fault.Invalidf("picture", "is empty").WithKey("targeting.picture_empty")
	}
	if len(data) > MaxPicture {
		return "", fault.Invalidf("picture", "is larger than %d KiB", MaxPicture>>10).WithKey("targeting.picture_too_large").
			WithArgs(map[string]any{"Size": MaxPicture >> 10})
	}
	sniffed := http.DetectContentType(data)
	if !slices.Contains(PictureTypes, sniffed) {
		return "", fault.Invalidf("picture", "must be a PNG, JPEG or WebP image (this is %s)", sniffed).WithKey("targeting.picture_type")
	}
	return sniffed, nil
}

// DeletePicture removes a persona's picture (nothing if it has none).
func (s *Service) DeletePicture(ctx context.Context, by rights.Actor, id int64) error {
	if err := s.write(by); err != nil {
		return err
	}
	return s.changePicture(ctx, by, id, nil, nil)
}

// changePicture replaces (data, of the type check returns) or removes (nil
// check) a persona's picture.
func (s *Service) changePicture(ctx context.Context, by rights.Actor, id int64, data []byte, check func() (string, error)) error {
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		cur, err := getPersona(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		change := history.Change{Field: "picture", Before: cur.HasPicture, After: false}
		if check == nil && !cur.HasPicture {
			return nil
		}
		if _, err := q.Exec(ctx, `DELETE FROM persona_pictures WHERE account_id = $1 AND persona_id = $2`, by.AccountID, id); err != nil {
			return err
		}
		if check != nil {
			typ, err := check()
			if err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `INSERT INTO persona_pictures (account_id, persona_id, content_type, data, updated_at) VALUES ($1, $2, $3, $4, $5)`,
				by.AccountID, id, typ, data, now.UnixMilli()); err != nil {
				return err
			}
			change.After = fmt.Sprintf("%s, %d bytes", typ, len(data))
		}
		if _, err := q.Exec(ctx, `UPDATE personas SET updated_at = $3, updated_by = $4, version = version + 1 WHERE account_id = $1 AND id = $2`,
			by.AccountID, id, now.UnixMilli(), nullInt(by.UserID)); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "persona.picture", rights.Contacts, history.Object{Type: "persona", ID: id, Label: cur.Name},
			[]history.Change{change}, now)
	})
}

// Picture returns a persona's picture and its type; a persona without one
// is NotFound.
func (s *Service) Picture(ctx context.Context, by rights.Actor, id int64) (string, []byte, error) {
	if err := s.read(by); err != nil {
		return "", nil, err
	}
	var typ string
	var data []byte
	err := s.DB.Read().QueryRow(ctx, `SELECT pp.content_type, pp.data FROM personas p
		JOIN persona_pictures pp ON pp.account_id = p.account_id AND pp.persona_id = p.id
		WHERE p.account_id = $1 AND p.id = $2`, by.AccountID, id).Scan(&typ, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, fault.Notf("this persona has no picture").WithKey("targeting.no_picture")
	}
	return typ, data, err
}

// PersonasOf returns the personas whose criteria a contact matches now, by
// name. A persona whose criteria no longer validate is left out (its own
// page says why).
func (s *Service) PersonasOf(ctx context.Context, by rights.Actor, contactID int64) ([]Persona, error) {
	if err := s.read(by); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM contacts WHERE account_id = $1 AND id = $2`, by.AccountID, contactID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.Notf("contact not found")
	}
	if err != nil {
		return nil, err
	}
	all, err := listPersonas(ctx, q, by.AccountID)
	if err != nil || len(all) == 0 {
		return all, err
	}
	cat, err := s.catalog(ctx, q, by.AccountID)
	if err != nil {
		return nil, err
	}
	env, err := s.env(ctx, q, by.AccountID)
	if err != nil {
		return nil, err
	}
	out := []Persona{}
	for _, p := range all {
		c, err := criteria.Compile(p.Criteria, cat, q.Dialect(), env, 3)
		if fault.Is(err, fault.Invalid) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var hit int
		err = q.QueryRow(ctx, `SELECT 1 FROM contacts c WHERE c.account_id = $1 AND c.id = $2 AND (`+c.Where+`)`,
			append([]any{by.AccountID, contactID}, c.Args...)...).Scan(&hit)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Breakdown counts the contacts of each persona now (a contact may be in
// several), by name. A persona whose criteria no longer validate has its
// error instead of a count.
func (s *Service) Breakdown(ctx context.Context, by rights.Actor) ([]PersonaCount, error) {
	if err := s.read(by); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	all, err := listPersonas(ctx, q, by.AccountID)
	if err != nil {
		return nil, err
	}
	out := make([]PersonaCount, 0, len(all))
	for _, p := range all {
		pc := PersonaCount{Persona: p}
		pc.Count, err = s.count(ctx, q, by.AccountID, p.Criteria)
		if f, ok := fault.As(err); ok && f.Kind == fault.Invalid {
			pc.Error = f.Error()
		} else if err != nil {
			return nil, err
		}
		out = append(out, pc)
	}
	return out, nil
}
