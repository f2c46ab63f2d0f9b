// Package compare holds everything about two dumps of one program: what
// grew between them and whether that growth is over a limit.
//
// It compares language-neutral inputs, so that the same comparison serves
// every heap model (Go today, Python next):
//
//   - types: named totals of live objects and bytes, matched by name
//     (DiffTypes);
//   - words: the aligned words of each dump, matched by what they mean,
//     not by their value, since two runs load their libraries at different
//     addresses (DiffWords, with a SymbolKeyer);
//   - retention groups: objects grouped by type and the path that holds
//     them, matched by type and path, a stack root by function and variable
//     whatever the thread or goroutine it ran on (DiffGroups).
//
// Growth limits ([SCOPE=]LIMIT, ParseLimit) are checked against the
// measures of a type or word comparison (Check), giving one CheckResult
// per limit. Nothing here prints: warnings are returned as warn.Warning.
package compare
