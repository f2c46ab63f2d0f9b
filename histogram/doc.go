// Package histogram finds the most frequent aligned 8-byte words in memory,
// the way `od -A n -t x8 | sort | uniq -c | sort -nr | head` would, but at
// close to the speed of reading the memory and in bounded space.
//
// A word is 8 little-endian bytes at an address that is a multiple of 8.
// Leading bytes before the first aligned address of a region and a trailing
// partial word are not counted.
//
// # Algorithm
//
// The exact pass reads words four at a time and skips a block of four zeros
// at once (a core is mostly zeros and pointers); the other passes read the
// input as runs of equal words, so that a run costs one table update
// whatever its length. The value 0 is counted exactly in every pass.
//
//  1. Small inputs (up to about a million words) are counted exactly in one
//     open-addressing table. The answer is exact and complete.
//  2. Otherwise a sample of evenly spaced blocks (about 250,000 words) is
//     counted, and its most frequent values become the candidates.
//  3. One parallel pass over everything counts the candidates exactly in a
//     small cache-resident table (direct-mapped: a candidate whose slot a
//     better one holds is dropped), and adds every other word to a sketch: an
//     array of counters indexed by a hash of the word. A counter holds the
//     total count of all non-candidates hashing to it, so it is an upper
//     bound on the count of each of them; the largest counter bounds the
//     count of every value that was not a candidate.
//  4. When that bound keeps the answer from being complete, and it looks
//     worthwhile, a repair pass counts exactly every word falling into the
//     heaviest sketch counters, using bounded tables. Values of counters it
//     resolved completely join the exact counts; the bound becomes the largest
//     counter left unresolved.
//
// Stream counts input that can be read only once (a core as it is
// decompressed) in one pass: exactly while a table holds every value seen,
// then with that table's best values as candidates, as in step 3, and no
// repair. Its result has the same guarantee, and is complete less often.
//
// # Guarantee
//
// Every count in Result.Rows is exact, and Rows is always the start of the
// listing a full exact count would give (count descending, value ascending,
// after Top, MinCount and SkipZero): Result.UnlistedMax bounds the count of
// every value not listed (except 0 under SkipZero), and an incomplete
// result lists only rows above it. Result.Complete says that Rows is the
// whole of that listing.
//
// Memory stays bounded whatever the input, about 100 MB at most plus about
// 1 MB per worker: tables are sized by the sample, the number of candidates
// and fixed budgets, never by the number of distinct values in the input.
package histogram
