module github.com/heapsift/heapsift

go 1.26.8

require (
	github.com/dustin/go-humanize v1.1.0
	github.com/ianlancetaylor/demangle v0.0.0-20260724033716-83e58baca724
	github.com/spf13/pflag v1.0.10
)

require (
	github.com/chzyer/readline v1.5.1 // indirect
	github.com/go-delve/delve v1.27.2 // indirect
	github.com/google/pprof v0.0.0-20260906184651-6331bc6350fe // indirect
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.47.0 // indirect
)
