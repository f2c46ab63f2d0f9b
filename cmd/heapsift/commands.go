package main

import (
	"errors"
	"fmt"
	"io"
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

// pickCommand finds the subcommand named by args[0], or the default one.
func pickCommand(args []string) (*command, []string) {
	cmds := commands()
	if len(args) > 0 {
		for _, c := range cmds {
			if args[0] == c.name {
				return c, args[1:]
			}
		}
		if args[0] == "help" {
			return helpCommand(cmds), args[1:]
		}
	}
	return cmds[0], args
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
