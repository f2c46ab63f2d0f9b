package main

import (
	"github.com/spf13/pflag"
)

func overviewCommand() *command {
	return &command{
		name: "", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "heapsift analyses the memory of a dead process. Given a core it prints an overview (process,\n" +
			"signal, threads, memory, executable) and then the most frequent words, each named.",
		example: "heapsift core.25867\nheapsift --exe ./server core\nheapsift --json core | jq .words",
		flags: func(fs *pflag.FlagSet, o *options) {
			addWordFlags(fs, o, 20)
			addDumpFlags(fs, o)
			addJSONFlag(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			p, err := o.openDump(args[0], e)
			if err != nil {
				return err
			}
			defer p.Close()
			info := newInfoReport(p)
			words, err := countWords(p, o, e)
			if err != nil {
				return err
			}
			if o.json {
				return writeJSON(e.stdout, struct {
					*infoReport
					Words *wordsReport `json:"words"`
				}{info, words})
			}
			info.writeText(e.stdout)
			section(e.stdout, "Most frequent words")
			words.writeText(e.stdout)
			return nil
		},
	}
}
