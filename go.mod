module flowsift

go 1.26
