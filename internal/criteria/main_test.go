package criteria_test

import (
	"testing"

	"envoi/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }
