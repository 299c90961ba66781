package tcpflags

import (
	"testing"

	"flowsift/internal/plugins/ptest"
)

func TestStateIsDense(t *testing.T) { ptest.Dense(t, state{}) }
