package rights

import (
	"encoding/json"
	"strings"
	"testing"

	"envoi/internal/fault"
)

func TestCheckFollowsTheLevelOrder(t *testing.T) {
	for _, have := range Levels {
		for _, need := range Levels {
			a := Actor{Rights: Set{Emailings: have}}
			err := Check(a, Emailings, need)
			allowed := have >= need
			if allowed != (err == nil) {
				t.Errorf("have %s need %s: err=%v", have, need, err)
			}
			if err != nil && !fault.Is(err, fault.Forbidden) {
				t.Errorf("want Forbidden, got %v", err)
			}
		}
	}
}

func TestCheckNamesTheMissingRight(t *testing.T) {
	err := Check(Actor{Rights: Set{Invoices: Guest}}, Invoices, Approver)
	if err == nil || !strings.Contains(err.Error(), "approver right on invoices") {
		t.Fatalf("got %v", err)
	}
}

func TestSetJSON(t *testing.T) {
	var s Set
	if err := json.Unmarshal([]byte(`{"contacts":"editor","emailings":"guest","sms":"none"}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.Of(Contacts) != Editor || s.Of(Emailings) != Guest || s.Of(Invoices) != None {
		t.Fatalf("parsed %v", s)
	}
	out, _ := json.Marshal(s)
	if !strings.Contains(string(out), `"invoices":"none"`) || !strings.Contains(string(out), `"contacts":"editor"`) {
		t.Fatalf("marshal: %s", out)
	}
	bad := []struct{ in, want string }{
		{`{"contact":"editor"}`, `unknown category "contact"`},
		{`{"contacts":"admin"}`, `unknown level "admin"`},
		{`[]`, `category: level`},
	}
	for _, b := range bad {
		var s Set
		err := json.Unmarshal([]byte(b.in), &s)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want %q", b.in, err, b.want)
		}
	}
}

func TestNarrowNeverExceedsEitherSide(t *testing.T) {
	user := Set{Contacts: Approver, Emailings: Editor}
	key := Set{Contacts: Guest, Emailings: Approver, Invoices: Approver}
	got := user.Narrow(key)
	if got.Of(Contacts) != Guest || got.Of(Emailings) != Editor || got.Of(Invoices) != None {
		t.Fatalf("Narrow = %v", got)
	}
}
