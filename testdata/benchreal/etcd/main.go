// Command etcd is etcd's own main (go.etcd.io/etcd/server/v3's main.go),
// built by scripts/bench-real.sh in a module of its own: etcd's server
// module has replace directives, so `go install` cannot build it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
