package api

import (
	"net/http"
	"strconv"
	"time"

	"envoi/internal/account"
	"envoi/internal/auth"
	"envoi/internal/fault"
	"envoi/internal/rights"
	"envoi/internal/server"
	"envoi/internal/user"
)

// personJSON is the SPEC §12.1 user shape, plus owner, version and the
// pending invitation.
type personJSON struct {
	ID         int64           `json:"id"`
	Email      string          `json:"email"`
	FirstName  string          `json:"first_name"`
	LastName   string          `json:"last_name"`
	Phone      string          `json:"phone"`
	Language   string          `json:"language"`
	Status     string          `json:"status"`
	Owner      bool            `json:"owner"`
	Rights     rights.Set      `json:"rights"`
	Caps       account.Caps    `json:"caps"`
	Version    int64           `json:"version"`
	Invitation *invitationJSON `json:"invitation"`
}

type invitationJSON struct {
	SentAt    time.Time `json:"sent_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func toPersonJSON(p account.Person) personJSON {
	out := personJSON{ID: int64(p.User.ID), Email: p.Email, FirstName: p.FirstName, LastName: p.LastName, Phone: p.Phone,
		Language: p.User.Language, Status: string(p.Status), Owner: p.Owner, Rights: p.Rights, Caps: p.Caps, Version: p.Member.Version}
	if out.Rights == nil {
		out.Rights = rights.Set{}
	}
	if p.InvitedAt != nil {
		out.Invitation = &invitationJSON{SentAt: p.InvitedAt.UTC(), ExpiresAt: p.InviteExpires.UTC()}
	}
	return out
}

// pathID reads the {id} path parameter; a malformed one is simply not
// found.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.Notf("not found")
	}
	return id, nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	people, err := a.Members.List(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := make([]personJSON, 0, len(people))
	for _, p := range people {
		out = append(out, toPersonJSON(p))
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"users": out})
}

type inviteJSON struct {
	Email     string       `json:"email"`
	FirstName string       `json:"first_name"`
	LastName  string       `json:"last_name"`
	Phone     string       `json:"phone"`
	Language  string       `json:"language"`
	Rights    rights.Set   `json:"rights"`
	Caps      account.Caps `json:"caps"`
}

func (a *API) inviteUser(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var in inviteJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	p, _, err := a.Members.Invite(r.Context(), id.Actor, account.Invite{Email: in.Email, FirstName: in.FirstName, LastName: in.LastName,
		Phone: in.Phone, Language: in.Language, Rights: in.Rights, Caps: in.Caps})
	if err != nil && !fault.Is(err, fault.Unavailable) {
		server.WriteError(w, r, err)
		return
	}
	// The user exists even when the email could not be sent: say both.
	out := struct {
		personJSON
		Warning string `json:"warning,omitempty"`
	}{personJSON: toPersonJSON(p)}
	if err != nil {
		out.Warning = err.Error()
	}
	server.WriteJSON(w, http.StatusCreated, out)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	uid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	p, err := a.Members.Get(r.Context(), id.Actor, user.ID(uid))
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toPersonJSON(p))
}

type patchJSON struct {
	Email     *string       `json:"email"`
	FirstName *string       `json:"first_name"`
	LastName  *string       `json:"last_name"`
	Phone     *string       `json:"phone"`
	Language  *string       `json:"language"`
	Caps      *account.Caps `json:"caps"`
	Version   int64         `json:"version"`
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	uid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	var in patchJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	p, err := a.Members.Update(r.Context(), id.Actor, user.ID(uid), in.Version, account.Patch{Email: in.Email, FirstName: in.FirstName,
		LastName: in.LastName, Phone: in.Phone, Language: in.Language, Caps: in.Caps})
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toPersonJSON(p))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	uid, err := pathID(r)
	if err == nil {
		err = a.Members.Delete(r.Context(), id.Actor, user.ID(uid))
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// setRights takes the rights object itself as the body; an If-Match header
// with the user's version guards against overwriting a newer change.
func (a *API) setRights(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	uid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	var set rights.Set
	if err := server.DecodeJSON(r, &set); err != nil {
		server.WriteError(w, r, err)
		return
	}
	var version int64
	if h := r.Header.Get("If-Match"); h != "" {
		if version, err = strconv.ParseInt(h, 10, 64); err != nil {
			server.WriteError(w, r, fault.Invalidf("If-Match", "must be the user's version number"))
			return
		}
	}
	p, err := a.Members.SetRights(r.Context(), id.Actor, user.ID(uid), version, set)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toPersonJSON(p))
}

func (a *API) setStatus(status account.Status) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, id auth.Identity) {
		uid, err := pathID(r)
		if err != nil {
			server.WriteError(w, r, err)
			return
		}
		p, err := a.Members.SetStatus(r.Context(), id.Actor, user.ID(uid), status)
		if err != nil {
			server.WriteError(w, r, err)
			return
		}
		server.WriteJSON(w, http.StatusOK, toPersonJSON(p))
	}
}

func (a *API) suspendUser(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a.setStatus(account.Suspended)(w, r, id)
}

func (a *API) reactivateUser(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a.setStatus(account.Active)(w, r, id)
}

func (a *API) resendInvitation(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	uid, err := pathID(r)
	if err == nil {
		_, err = a.Members.ResendInvitation(r.Context(), id.Actor, user.ID(uid))
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) cancelInvitation(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	uid, err := pathID(r)
	if err == nil {
		err = a.Members.CancelInvitation(r.Context(), id.Actor, user.ID(uid))
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
