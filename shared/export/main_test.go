package export_test

import (
	"testing"

	"github.com/contrail/contrail/shared/stacktest"
)

func TestMain(m *testing.M) { stacktest.Main(m) }
