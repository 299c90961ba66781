package tcpstates

import (
	"testing"

	"flowsift/internal/plugins/ptest"
)

func TestDirIsDense(t *testing.T) { ptest.Dense(t, dir{}) }
