package main

import (
	"fmt"
	"os"

	"github.com/heapsift/heapsift/dump"
)

func main() {
	p, err := dump.Open(os.Args[1], dump.Options{})
	if err != nil {
		fmt.Println("ERR", err)
		return
	}
	fmt.Println(p.Kind, p.Arch, len(p.Threads), p.Info, p.Signal, p.Totals())
	for _, m := range p.Mappings() {
		fmt.Println(m, m.FileOffset, len(m.CoreData()), m.FromFile(), m.Missing())
	}
	for _, m := range p.Modules() {
		fmt.Printf("%+v\n", *m)
	}
	fmt.Println(p.Warnings())
}
