// Package native models the heap of a C, C++ or any other program that
// allocates with glibc's malloc.
package native
