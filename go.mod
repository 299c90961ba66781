module flowsift

go 1.26.0

require (
	github.com/benhoyt/goawk v1.29.1
	github.com/chromedp/cdproto v0.0.0-20250724212937-08a3db8b4327
	github.com/chromedp/chromedp v0.14.2
	github.com/oschwald/maxminddb-golang/v2 v2.9.1
	golang.org/x/term v0.48.0
)

require golang.org/x/sys v0.50.0

require (
	github.com/chromedp/sysutil v1.1.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/pool v0.2.1 // indirect
	github.com/gobwas/ws v1.4.0 // indirect
)
