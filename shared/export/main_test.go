package export_test

import (
	"testing"

	"github.com/contrail/contrail/local/stacktest"
)

func TestMain(m *testing.M) { stacktest.Main(m) }
