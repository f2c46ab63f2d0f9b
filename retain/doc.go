// Package retain finds what holds the heap: the object graph, its
// dominator tree, the retained size of every object, shortest paths from
// the roots and groups of objects held the same way.
//
// A type histogram says what fills a heap; a leak is found by what holds
// it. Object d dominates object v when every path from the roots to v goes
// through d: freeing d frees v. The retained size of d is the total size
// of the objects it dominates, itself included, as in Eclipse MAT.
//
// The graph algorithms (graph.go through groups.go) know nothing about Go:
// the caller numbers its objects 0..n-1 and gives their sizes, their roots
// and an EdgeSource that emits (from, to, label) for each pointer; labels
// are the caller's small ids (field offsets, root names). FromHeap
// (heap*.go) is that caller for a Go heap modelled by package gocore: it
// labels each edge with the pointer's offset, collapses array and map
// indices per type for grouping, and resolves names only for what is shown.
//
// # Graph layout
//
// A Graph is in compressed sparse row form: node v's out-edges are a
// contiguous run of two parallel uint32 arrays, targets and labels, found
// through a row-start array of n+2 entries. Node n is a virtual
// super-root whose edges, labelled with root names, lead to the roots, so
// that an object listed under several roots is dominated by none of them.
// BuildGraph calls the edge source twice, a counting pass that sizes the
// rows and a fill pass that places each edge: nothing is appended or
// reallocated. Cost: 4 bytes per node and 8 per edge, plus the caller's
// sizes (8 bytes per object, kept, not copied). In-edges (Graph.Reverse)
// are built on demand the same way, 8 more bytes per edge.
//
// FromHeap keeps no sizes (it reads them from the model, in object
// order, when it needs them) and builds the graph without its labels but
// the roots': the dominators never read labels, and the paths need only
// the label of each object's parent edge, which a third pass over the
// edge source finds once the graph's rows and targets are dropped
// (deferred.go). Its large arrays all come from one scratch (scratch.go):
// anonymous mappings outside the Go heap, or with HeapOptions.ScratchDir
// files in a directory, mapped shared and unlinked at once, so that the
// kernel may write them out and a graph larger than memory is analysed
// rather than killed. Analysis.Close unmaps them.
//
// # Dominators and retained sizes
//
// ComputeDominators runs semi-NCA (Georgiadis and Tarjan), the simple
// variant of Lengauer–Tarjan: a depth-first numbering from the super-root;
// semidominators in decreasing number, by evaluating predecessors over a
// path-compressed forest; then each immediate dominator as the nearest
// ancestor of the DFS parent, in the dominator tree built so far, not
// below the semidominator; then retained sizes in one backward pass over
// the numbering, where every node follows its immediate dominator. Nothing
// recurses: the DFS keeps its stack in an array, eval reverses the links
// it walks instead of stacking them, so million-long lists are fine.
//
// The non-tree predecessors are counted during the DFS and listed in a
// second pass (4 bytes each); the working arrays take 20 bytes per node,
// and change roles from pass to pass rather than being reallocated. They
// are mapped outside the Go heap on Linux, with huge pages, and unmapped
// as soon as each is done, so no dead array waits for the collector. The
// results, Idom and the retained sizes, take 8 bytes per node (a retained
// size of 4 GiB or more goes to a map). The DFS and the
// semidominator pass are chains of dependent cache misses; the latter
// prefetches three predecessors ahead (a small assembly stub on amd64 and
// arm64). Time is O(E log N) for the semidominators and, in theory, up to
// O(N²) for the nearest-ancestor walks on contrived graphs; on heap graphs
// both stay close to linear. Unreachable objects have Idom None and
// Retained 0.
//
// Measured on a 2-core virtual machine (memory latency about 170 ns),
// for a synthetic heap of 18 million objects and 52 million edges (see
// bench_test.go): the graph takes 470 MB and 0.5-1.2 s to build beyond
// the edge source's own two passes; dominators and retained sizes take
// 10-13 s of CPU, with a peak of about 970 MB for the graph and working
// arrays together (1.1 GB with the caller's sizes).
//
// # Paths
//
// ShortestPaths runs a breadth-first search from the super-root, keeping
// each object's parent, the label of its parent edge and the visit order
// (12 bytes per node), prefetching along the queue (1.5 s on the heap
// above). It only reads the graph and may run concurrently with
// ComputeDominators, on another core. Paths.PathTo gives the chain root →
// … → object with the edge labels, Dominators.DominatorsOf the chain of
// dominators. FromHeap's grouping turns the parent labels into the
// objects' path ids in place, and its PathTo then finds a hop's label
// again from the model: the parent's first reference to the child, as
// the search took it.
//
// # Groups
//
// Groups puts each reachable object in the group (root label, collapsed
// label path along the breadth-first tree, type) and ranks the groups by
// retained size. A path is interned as a (parent path, label) pair in a
// hash table while walking the tree in breadth-first order, so an object
// costs one uint32 and one lookup, not a string. A label that recurs on a
// path folds the path back to its first occurrence: lists and trees would
// otherwise make one path per object. A group's retained size counts only
// the members no other member of the group dominates, found in one pass
// over a preorder numbering of the dominator tree, so no byte is counted
// twice. The grouping's working arrays take 8 bytes per node beyond the
// path ids.
package retain
