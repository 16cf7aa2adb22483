package api

import (
	"net/http"

	"envoi/internal/auth"
	"envoi/internal/rights"
	"envoi/internal/server"
)

// userJSON is the SPEC §12.1 user shape.
type userJSON struct {
	ID        int64      `json:"id"`
	Email     string     `json:"email"`
	FirstName string     `json:"first_name"`
	LastName  string     `json:"last_name"`
	Phone     string     `json:"phone"`
	Language  string     `json:"language"`
	Status    string     `json:"status"`
	Owner     bool       `json:"owner"`
	Rights    rights.Set `json:"rights"`
}

type accountJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Timezone string `json:"timezone"`
}

type keyJSON struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Prefix string `json:"prefix"`
}

type meJSON struct {
	User    userJSON     `json:"user"`
	Account *accountJSON `json:"account"`
	Rights  rights.Set   `json:"rights"`
	Key     *keyJSON     `json:"key,omitempty"`
}

func (a *API) me(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	out := meJSON{
		User: userJSON{ID: int64(id.User.ID), Email: id.User.Email, FirstName: id.User.FirstName, LastName: id.User.LastName,
			Phone: id.User.Phone, Language: id.User.Language, Status: "active", Owner: id.Actor.Owner, Rights: id.Actor.Rights},
		Rights: id.Actor.Rights,
	}
	if out.Rights == nil {
		out.Rights = rights.Set{}
		out.User.Rights = out.Rights
	}
	if id.HasAccount() {
		out.Account = &accountJSON{ID: int64(id.Account.ID), Name: id.Account.Name, Language: id.Account.Language, Timezone: id.Account.Timezone}
	}
	if id.Key != nil {
		out.Key = &keyJSON{ID: id.Key.ID, Name: id.Key.Name, Prefix: id.Key.Prefix}
	}
	server.WriteJSON(w, http.StatusOK, out)
}
