module flowsift

go 1.26.0

require github.com/benhoyt/goawk v1.29.1

require golang.org/x/sys v0.50.0
