package timerslack

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Every thread of the process has the slack, also those the runtime
// started before any package initialised and those started since.
func TestEveryThread(t *testing.T) {
	if !Enabled {
		t.Skip("this build does not set the timer slack")
	}
	// More threads: goroutines locked to threads of their own.
	var wg sync.WaitGroup
	release := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			runtime.LockOSThread()
			wg.Done()
			<-release
		}()
	}
	wg.Wait()
	defer close(release)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) < 5 {
		t.Fatalf("%d threads, want at least 5", len(tasks))
	}
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/" + task.Name() + "/timerslack_ns")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(b)); got != "1" {
			t.Errorf("thread %s: timer slack %s ns, want 1", task.Name(), got)
		}
	}
}
