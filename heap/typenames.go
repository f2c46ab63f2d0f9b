package heap

import "fmt"

// TypeNames interns display names as dense TypeIDs, for models that name
// types as they find them. The zero value is ready to use.
type TypeNames struct {
	names []string
	ids   map[string]TypeID
}

// ID returns name's TypeID, giving it the next one if it is new.
func (t *TypeNames) ID(name string) TypeID {
	if id, ok := t.ids[name]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = map[string]TypeID{}
	}
	id := TypeID(len(t.names))
	t.names = append(t.names, name)
	t.ids[name] = id
	return id
}

// Name returns id's name, or "<bad type N>" for an id never given out.
func (t *TypeNames) Name(id TypeID) string {
	if int(id) >= len(t.names) {
		return fmt.Sprintf("<bad type %d>", id)
	}
	return t.names[id]
}

// Len returns how many names have been interned; ids run from 0 to Len-1.
func (t *TypeNames) Len() int { return len(t.names) }
