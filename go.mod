module playground

go 1.26.8
