package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/heapsift/heapsift/internal/coretest"
)

// The HTML report in a real browser: headless Chromium (Debian's chromium
// package, which .ci/run installs) opens it from file:// and the test
// drives it through the DevTools protocol. HEAPSIFT_REPORT_PNG names a
// file for a screenshot of the page (docs/report.png is made so).

// chromiumPath finds Chromium: skipped with the reason outside CI, fails
// in CI (CI=true), where .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const how = "apt-get install chromium (.ci/run does)"
	if v := strings.ToLower(os.Getenv("CI")); v != "" && v != "0" && v != "false" {
		t.Fatalf("no chromium on PATH, and CI=%s requires it: %s", os.Getenv("CI"), how)
	}
	t.Skipf("no chromium on PATH: %s (in CI this fails the test)", how)
	return ""
}

// browserPage is a report opened in headless Chromium, with what the page
// logged and asked for.
type browserPage struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string // console errors, exceptions, dialogs
	requests []string // every URL requested but the page's own
}

func (b *browserPage) note(list *[]string, s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	*list = append(*list, s)
}

// openReport opens the HTML file in a new headless Chromium, which the
// test's cleanup closes.
func openReport(t *testing.T, chromium, file string) *browserPage {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium),
		chromedp.NoSandbox, chromedp.WindowSize(1280, 1100), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	url := "file://" + file
	b := &browserPage{}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) { b.observe(ev, url) }))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b.ctx = ctx
	// The first Run starts the browser, which lives as long as the
	// context of that call: no time limit on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	b.run(t, "opening "+url, chromedp.Steps(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#flame-graph g.frame"))))
	return b
}

// observe records console errors and warnings, exceptions, dialogs, log
// errors and every request but the page's own.
func (b *browserPage) observe(ev any, url string) {
	switch ev := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		if ev.Type == cdpruntime.ConsoleAPICalledTypeError || ev.Type == cdpruntime.ConsoleAPICalledTypeWarning {
			b.note(&b.problems, fmt.Sprintf("console %s: %d arguments", ev.Type, len(ev.Args)))
		}
	case *cdpruntime.EventExceptionThrown:
		b.note(&b.problems, fmt.Sprintf("exception: %s", ev.ExceptionDetails.Text))
	case *cdplog.EventEntryAdded:
		if ev.Entry != nil && ev.Entry.Level == cdplog.EntryLevelError {
			b.note(&b.problems, "log: "+ev.Entry.Text)
		}
	case *page.EventJavascriptDialogOpening:
		b.note(&b.problems, "dialog: "+ev.Message)
	case *network.EventRequestWillBeSent:
		if ev.Request != nil && ev.Request.URL != url {
			b.note(&b.requests, ev.Request.URL)
		}
	}
}

// browse runs an action on the page with a time limit, failing the test on
// an error.
func browse[T any](t *testing.T, b *browserPage, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// run runs actions that return nothing.
func (b *browserPage) run(t *testing.T, what string, a chromedp.Action[chromedp.Void]) {
	t.Helper()
	browse(t, b, what, a)
}

// check fails the test for console errors, exceptions, dialogs and any
// request but the page's own.
func (b *browserPage) check(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.problems) > 0 {
		t.Errorf("the page logged problems:\n  %s", strings.Join(b.problems, "\n  "))
	}
	if len(b.requests) > 0 {
		t.Errorf("the page made network requests: %q", b.requests)
	}
}

// writeReport runs heapsift report on the cores and returns the file.
func writeReport(t *testing.T, cores ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.html")
	code, _, errs := runCLI(t, append(append([]string{"report"}, cores...), "-o", out)...)
	assertNoTrace(t, errs)
	if code != 0 {
		t.Fatalf("heapsift report: exit %d: %s", code, errs)
	}
	return out
}

// TestReportBrowser: the report of the demo service's core, and of two
// of them, in Chromium: the top suspect's sentence and the top types
// visible, a click on a frame zooms to it, the filter narrows the table,
// no console error and no network request.
func TestReportBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	older, newer := leakyCore(t, 20000), leakyCore(t, 50000)
	file := writeReport(t, newer.Path)
	if st, err := os.Stat(file); err != nil || st.Size() > 2<<20 {
		t.Errorf("report: %v, %d bytes", err, st.Size())
	}
	b := openReport(t, chromium, file)
	suspectsText := browse(t, b, "reading the suspects", chromedp.Text(chromedp.CSS("#suspects")))
	firstType := browse(t, b, "reading the types", chromedp.Text(chromedp.CSS("#type-table tbody tr:first-child td:first-child")))
	want := "main.defaultProfiler.results ([]*main.Timing of 50,000 elements) retains"
	if !strings.Contains(strings.Join(strings.Fields(suspectsText), " "), "main.defaultProfiler.results") || !strings.Contains(suspectsText, "50,000 main.Timing accumulate there") {
		t.Errorf("suspects section %q; want %q", suspectsText, want)
	}
	if firstType != "main.Timing" {
		t.Errorf("first row of the type table %q, want main.Timing", firstType)
	}
	if png := os.Getenv("HEAPSIFT_REPORT_PNG"); png != "" {
		shot := browse(t, b, "screenshot", chromedp.CaptureScreenshot())
		if err := os.WriteFile(png, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkFlameZoom(t, b, "main.defaultProfiler (global)")
	checkTypeFilter(t, b, "Timing")
	b.check(t)

	d := openReport(t, chromium, writeReport(t, older.Path, newer.Path))
	grew := browse(t, d, "reading the comparison", chromedp.Text(chromedp.CSS("#suspects")))
	if !strings.Contains(grew, "30,000 more main.Timing") || !strings.Contains(grew, "grew by") {
		t.Errorf("comparison's suspects %q; want main.defaultProfiler.results with 30,000 more main.Timing", grew)
	}
	d.check(t)
}

// checkFlameZoom clicks the frame named name and checks that the graph
// zoomed to it.
func checkFlameZoom(t *testing.T, b *browserPage, name string) {
	t.Helper()
	js := fmt.Sprintf(`(function () {
		var gs = document.querySelectorAll("#flame-graph g.frame");
		for (var i = 0; i < gs.length; i++) {
			var title = gs[i].querySelector("title").textContent;
			if (title.indexOf(%s + " — ") === 0) {
				var r = gs[i].querySelector("rect").getBoundingClientRect();
				return [r.left + Math.min(r.width / 2, 20), r.top + r.height / 2];
			}
		}
		return [];
	})()`, strconv.Quote(name))
	b.run(t, "scrolling to the graph", chromedp.ScrollIntoView(chromedp.CSS("#flame-graph")))
	// On a loaded machine the page may still be settling after the
	// scroll, so the frame is found again, and the zoom awaited, a few
	// times before the click counts as failed.
	var zoom string
	for attempt := 0; attempt < 3 && zoom != name; attempt++ {
		pos := browse(t, b, "finding the frame", chromedp.Evaluate[[]float64](js))
		if len(pos) != 2 {
			t.Fatalf("no frame %q in the icicle graph", name)
		}
		b.run(t, "clicking the frame", chromedp.MouseClickXY(pos[0], pos[1]))
		for wait := 0; wait < 20; wait++ {
			zoom = browse(t, b, "reading the zoom", chromedp.AttributeValue(chromedp.CSS("#flame-graph"), "data-zoom")).Value
			if zoom == name {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if zoom != name {
		t.Errorf("after a click on %q the graph is zoomed to %q", name, zoom)
	}
}

// checkTypeFilter types into the filter box and checks that the table
// keeps only the rows that match.
func checkTypeFilter(t *testing.T, b *browserPage, text string) {
	t.Helper()
	count := `(function () {
		var n = 0, bad = 0, rows = document.querySelectorAll("#type-table tbody tr");
		rows.forEach(function (r) {
			if (r.style.display === "none") { return; }
			n++;
			if (r.cells[0].textContent.indexOf(%q) < 0) { bad++; }
		});
		return [rows.length, n, bad];
	})()`
	b.run(t, "filtering the types", chromedp.SendKeys(chromedp.CSS("#type-filter"), text))
	got := browse(t, b, "counting the rows", chromedp.Evaluate[[]int](fmt.Sprintf(count, text)))
	if len(got) != 3 || got[1] == 0 || got[1] >= got[0] || got[2] != 0 {
		t.Errorf("filter %q: [rows, shown, shown without it] = %v", text, got)
	}
}

// TestReportHostileNames: a Python core whose class name holds markup,
// quotes and ampersands: the report shows the name as text everywhere
// (suspect, table, graph) and runs no script of the core's.
func TestReportHostileNames(t *testing.T) {
	chromium := chromiumPath(t)
	python := coretest.PyenvPython(t, suspectPython)
	core := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "hostile.py")}, nil)
	const name = `__main__.<script>alert("pwned")</script>&amp;'x'`
	b := openReport(t, chromium, writeReport(t, core.Path))
	state := browse(t, b, "reading the page", chromedp.Evaluate[[]any](fmt.Sprintf(`(function () {
		var inTable = Array.prototype.some.call(document.querySelectorAll("#type-table td:first-child"), function (td) { return td.textContent === %[1]s; });
		var inGraph = Array.prototype.some.call(document.querySelectorAll("#flame-graph title"), function (t) { return t.textContent.indexOf(%[1]s) === 0; });
		var inSuspect = document.getElementById("suspects").textContent.indexOf(%[1]s) >= 0;
		return [document.scripts.length, inTable, inGraph, inSuspect];
	})()`, strconv.Quote(name))))
	if fmt.Sprint(state) != "[2 true true true]" {
		t.Errorf("[scripts, name in the table, in the graph, in the suspect] = %v; want the page's two scripts and the name as text everywhere", state)
	}
	b.check(t)
}
