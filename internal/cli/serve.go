package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"flowsift/internal/plugins"
	"flowsift/internal/serve"
)

const serveUsage = `Usage: flowsift serve -r CAPTURE|FOLDER [--addr HOST:PORT]
       flowsift serve -R LISTFILE [--addr HOST:PORT]

Analyses the capture (default plugins plus tcpDiag) and serves a web view:
overview, flow table with tawk filters, per-flow plots. -r FOLDER offers
the captures in FOLDER to choose from. --addr defaults to 127.0.0.1:8080
(loopback only); port 0 picks a free port. The URL is printed on stdout.
`

// serveMain runs `flowsift serve` until SIGINT/SIGTERM.
func serveMain(args []string, stdout, stderr io.Writer) int {
	addr := "127.0.0.1:8080"
	var read, list string
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, bool) {
			if k := strings.IndexByte(a, '='); k > 0 && strings.HasPrefix(a, "--") {
				return a[k+1:], true
			}
			if len(a) > 2 && a[1] != '-' {
				return a[2:], true
			}
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		var ok bool
		switch {
		case a == "-h" || a == "--help":
			io.WriteString(stdout, serveUsage)
			return 0
		case strings.HasPrefix(a, "-r"):
			read, ok = val()
		case strings.HasPrefix(a, "-R"):
			list, ok = val()
		case a == "--addr" || strings.HasPrefix(a, "--addr="):
			addr, ok = val()
		default:
			fmt.Fprintf(stderr, "flowsift serve: unknown argument %s\n%s", a, serveUsage)
			return 2
		}
		if !ok {
			fmt.Fprintf(stderr, "flowsift serve: %s needs a value\n", a)
			return 2
		}
	}
	if (read == "") == (list == "") {
		fmt.Fprint(stderr, "flowsift serve: give exactly one of -r and -R\n"+serveUsage)
		return 2
	}
	var name, folder string
	var inputs []string
	switch {
	case list != "":
		l, err := readList(list)
		if err != nil || len(l) == 0 {
			fmt.Fprintf(stderr, "flowsift serve: %s: no readable capture file listed\n", list)
			return 1
		}
		name, inputs = filepath.Base(list), l
	default:
		st, err := os.Stat(read)
		if err != nil {
			fmt.Fprintf(stderr, "flowsift serve: %v\n", err)
			return 1
		}
		if st.IsDir() {
			folder = read
		} else {
			name, inputs = filepath.Base(read), []string{read}
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "flowsift serve: %v\n", err)
		return 1
	}
	start := time.Now()
	srv, err := serve.New(name, inputs, folder, plugins.Registry(), serve.DefaultExplainer(), stderr)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "flowsift serve: %v\n", err)
		return 1
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "flowsift serve: ready in %v, http://%s/\n", time.Since(start).Round(time.Millisecond), ln.Addr())
	if f, ok := stdout.(interface{ Sync() error }); ok {
		f.Sync()
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "flowsift serve: %v\n", err)
		return 1
	}
	return 0
}
