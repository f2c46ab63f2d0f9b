package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// command is one heapsift subcommand.
type command struct {
	name    string
	args    string // argument synopsis, e.g. "CORE ADDR..."
	summary string
	example string
	// flags adds the command's own flags; run receives the parsed
	// positional arguments.
	flags func(fs *pflag.FlagSet, o *options)
	exec  func(o *options, args []string, e *env) error
	// minArgs and maxArgs bound the positional arguments (maxArgs < 0: any).
	minArgs, maxArgs int
}

var errHelp = errors.New("help shown")

// commands lists every subcommand; the first is the default.
func commands() []*command {
	return []*command{
		overviewCommand(),
		infoCommand(),
		mappingsCommand(),
		wordsCommand(),
		symbolCommand(),
		histogramCommand(),
		objectsCommand(),
		goroutinesCommand(),
		stacksCommand(),
		retainCommand(),
		suspectsCommand(),
		reportCommand(),
		whyCommand(),
		dominatorsCommand(),
		diffCommand(),
	}
}

// pickCommand finds the subcommand named by the first positional argument
// (flags may come before it: heapsift --exe X histogram core), or the
// default one. A first argument that is no command and no file, but close
// to a command's name, is a usage error naming that command.
func pickCommand(args []string) (*command, []string, error) {
	cmds := commands()
	i := firstPositional(args, cmds)
	if i < 0 {
		return cmds[0], args, nil
	}
	rest := append(append([]string(nil), args[:i]...), args[i+1:]...)
	for _, c := range cmds {
		if args[i] == c.name {
			return c, rest, nil
		}
	}
	if args[i] == "help" {
		return helpCommand(cmds), rest, nil
	}
	if _, err := os.Stat(args[i]); err != nil {
		if near := nearestCommand(args[i], cmds); near != "" {
			return cmds[0], args, usagef("unknown command %q (did you mean %s?)", args[i], near)
		}
		if len(args)-i > 1 && !strings.ContainsAny(args[i], "/.") {
			return cmds[0], args, usagef("unknown command %q (commands: %s)", args[i], commandNames(cmds))
		}
	}
	return cmds[0], args, nil
}

// firstPositional returns the index of the first argument that is not a
// flag or a flag's value, or -1. Whether a flag takes a value is looked up
// in the flags of every command.
func firstPositional(args []string, cmds []*command) int {
	all := pflag.NewFlagSet("all", pflag.ContinueOnError)
	for _, c := range cmds {
		if c.flags != nil {
			fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
			c.flags(fs, &options{})
			fs.VisitAll(func(f *pflag.Flag) {
				if all.Lookup(f.Name) == nil {
					all.AddFlag(f)
				}
			})
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return -1
		case len(a) < 2 || a[0] != '-':
			return i
		case strings.Contains(a, "="):
			continue
		}
		if f := all.Lookup(strings.TrimLeft(a, "-")); f != nil && f.NoOptDefVal == "" {
			i++ // the flag's value
		}
	}
	return -1
}

// nearestCommand returns the command whose name is within two edits of
// name, or "".
func nearestCommand(name string, cmds []*command) string {
	best, bestD := "", 3
	for _, c := range cmds {
		if c.name == "" {
			continue
		}
		if d := editDistance(name, c.name); d < bestD {
			best, bestD = c.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func commandNames(cmds []*command) string {
	var names []string
	for _, c := range cmds[1:] {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// run parses flags and positional arguments, then executes the command.
func (c *command) run(args []string, e *env) error {
	o := &options{}
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	if c.flags != nil {
		c.flags(fs, o)
	}
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		if n := negativeNumber(args); n != "" {
			return usagef("%q is not a flag, and no address or count is negative; put arguments that start with '-' after '--'", n)
		}
		return usagef("%v", err)
	}
	if *help {
		c.printHelp(e.stdout, fs)
		return errHelp
	}
	pos, err := o.live.positional(c, o, fs.Args())
	if err != nil {
		return err
	}
	if len(pos) < c.minArgs {
		if len(pos) == 0 && c.name == "" {
			c.printHelp(e.stderr, fs)
			return &exitCodeError{code: exitUsage}
		}
		return usagef("%s needs %s", c.displayName(), c.args)
	}
	if c.maxArgs >= 0 && len(pos) > c.maxArgs {
		return usagef("%s takes %s, got %d arguments: %s", c.displayName(), c.args, len(pos), strings.Join(pos, " "))
	}
	if err := o.check(); err != nil {
		return err
	}
	return c.exec(o, pos, e)
}

// negativeNumber returns the first argument before any "--" that looks like
// a negative number ("-1"), which pflag takes for a flag, or "".
func negativeNumber(args []string) string {
	for _, a := range args {
		if a == "--" {
			return ""
		}
		if len(a) > 1 && a[0] == '-' && a[1] >= '0' && a[1] <= '9' {
			return a
		}
	}
	return ""
}

func (c *command) displayName() string {
	if c.name == "" {
		return programName
	}
	return programName + " " + c.name
}

func (c *command) printHelp(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s [flags] %s\n\n%s\n", c.displayName(), c.args, c.summary)
	if example := c.example + liveExamples(c, fs); example != "" {
		fmt.Fprintf(w, "\nExample:\n%s\n", indent(example, "  "))
	}
	fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
	if c.name == "" {
		fmt.Fprintf(w, "\nCommands:\n")
		for _, sc := range commands()[1:] {
			fmt.Fprintf(w, "  %-11s %s\n", sc.name, firstLine(sc.summary))
		}
		fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags and an example.\n", programName)
	}
}

func helpCommand(cmds []*command) *command {
	return &command{
		name: "help", args: "[COMMAND]", summary: "Show help for a command.", maxArgs: 1,
		exec: func(o *options, args []string, e *env) error {
			target := cmds[0]
			if len(args) == 1 {
				names := []string{}
				target = nil
				for _, c := range cmds {
					names = append(names, c.name)
					if c.name == args[0] {
						target = c
					}
				}
				if target == nil {
					sort.Strings(names)
					return usagef("no command %q (commands: %s)", args[0], strings.Join(names[1:], ", "))
				}
			}
			return target.run([]string{"--help"}, e)
		},
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
