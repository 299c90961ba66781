module flowsift

go 1.26

require github.com/benhoyt/goawk v1.29.1
