module flowsift

go 1.26.0

require (
	github.com/benhoyt/goawk v1.29.1
	github.com/oschwald/maxminddb-golang/v2 v2.9.1
	golang.org/x/term v0.48.0
)

require golang.org/x/sys v0.50.0
