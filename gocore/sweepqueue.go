package gocore

import "math/bits"

// sweepQueue schedules objects for type propagation so that the heap and
// its memory are read in address order.
//
// Scheduled objects wait in a bitset and are visited in sweeps over it in
// address order: an object scheduled ahead of the sweep's finger waits for
// the finger, one scheduled behind it for the next sweep. A sweep with
// little to do costs little (a pass over a bitset, about 10 µs per million
// objects), but a long chain of objects each scheduling the one before it
// in memory would take a sweep per object: after maxSweeps sweeps, objects
// scheduled behind the finger go on a work stack and are visited at once.
type sweepQueue struct {
	waiting   []uint64 // objects scheduled for a sweep
	count     int      // set bits in waiting
	finger    uint32   // the object the sweep is at
	atOnce    bool     // objects behind the finger go on work
	work      []uint32
	maxSweeps int
}

// maxSweeps bounds the sweeps of marking and type propagation before their
// work stacks take over (marking does not use a sweepQueue, but sweeps the
// same way: mark.go).
const maxSweeps = 32

func newSweepQueue(objects, maxSweeps int) *sweepQueue {
	return &sweepQueue{waiting: makeHuge[uint64]((objects + 63) / 64), maxSweeps: maxSweeps}
}

// add schedules obj; scheduling a waiting object again does nothing.
func (q *sweepQueue) add(obj uint32) {
	if q.atOnce && obj <= q.finger {
		q.work = append(q.work, obj)
		return
	}
	if w := &q.waiting[obj/64]; *w&(1<<(obj%64)) == 0 {
		*w |= 1 << (obj % 64)
		q.count++
	}
}

// run visits scheduled objects, and those visit schedules, until none is
// left.
func (q *sweepQueue) run(visit func(obj uint32)) {
	for sweep := 1; q.count > 0; sweep++ {
		q.sweep(visit)
		q.atOnce = sweep >= q.maxSweeps
	}
}

// sweep visits the waiting objects in address order.
func (q *sweepQueue) sweep(visit func(obj uint32)) {
	q.finger = 0
	for w := range q.waiting {
		for q.waiting[w] != 0 {
			b := uint32(bits.TrailingZeros64(q.waiting[w]))
			q.waiting[w] &^= 1 << b
			q.count--
			obj := uint32(w)*64 + b
			q.finger = obj
			visit(obj)
			for len(q.work) > 0 {
				o := q.work[len(q.work)-1]
				q.work = q.work[:len(q.work)-1]
				visit(o)
			}
		}
	}
}
