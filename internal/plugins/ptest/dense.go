package ptest

import (
	"reflect"
	"testing"
)

// Dense fails t when the per-flow record v has padding between its fields
// (only the rounding at its end is allowed): tens of thousands of records
// are alive at once, and every byte is paid per flow direction
// (docs/performance.md). New fields go where they fill no hole.
func Dense(t testing.TB, v any) {
	t.Helper()
	ty := reflect.TypeOf(v)
	var sum uintptr
	for i := 0; i < ty.NumField(); i++ {
		sum += ty.Field(i).Type.Size()
	}
	dense := (sum + uintptr(ty.Align()) - 1) &^ (uintptr(ty.Align()) - 1)
	if ty.Size() != dense {
		t.Errorf("%s is %d bytes, its fields %d (%d aligned): reorder the fields", ty, ty.Size(), sum, dense)
	}
}
