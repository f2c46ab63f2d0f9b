package main

import (
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// TestFlagsBeforeCommand: flags may come before the command as after it,
// with the same output.
func TestFlagsBeforeCommand(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "leaky"), coretest.GoBuild{})
	core := coretest.MakeCore(t, exe, []string{"-requests=100"}, nil)
	_, after, _ := runCLI(t, "histogram", "--exe", exe, "--top", "3", core.Path)
	for _, args := range [][]string{
		{"--exe", exe, "histogram", "--top", "3", core.Path},
		{"--exe", exe, "--top", "3", "histogram", core.Path},
		{"--top=3", "histogram", "--exe", exe, core.Path},
	} {
		code, out, errs := runCLI(t, args...)
		if code != 0 || out != after || !strings.Contains(out, "3 of ") {
			t.Errorf("heapsift %s: exit %d, %q; want the output of heapsift histogram --exe EXE --top 3 CORE:\n%s\ngot:\n%s", strings.Join(args, " "), code, errs, after, out)
		}
	}
}

// TestUnknownCommand: a mistyped command is named, with the command meant.
func TestUnknownCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"histgram", "core"}, `unknown command "histgram" (did you mean histogram?)`},
		{[]string{"--json", "retian", "core"}, `unknown command "retian" (did you mean retain?)`},
		{[]string{"frobnicate", "core"}, `unknown command "frobnicate" (commands: info,`},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("heapsift %s: exit %d, %q; want %d and %q", strings.Join(tc.args, " "), code, errs, exitUsage, tc.want)
		}
	}
}
