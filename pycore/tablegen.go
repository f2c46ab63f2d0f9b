package pycore

import (
	"bytes"
	"fmt"
	"go/format"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// formatTable appends the layoutTable variable for rows to header and
// returns the gofmt'ed source. Layouts are written member by member as
// composite literals, absent members as absent, so that the file reads as
// data and a regeneration's diff shows what moved.
func formatTable(header []byte, rows []*tableLayout) ([]byte, error) {
	var b bytes.Buffer
	b.Write(header)
	b.WriteString("var layoutTable = []tableLayout{\n")
	for _, r := range rows {
		b.WriteString("{\n")
		fmt.Fprintf(&b, "versions: %#v,\n", r.versions)
		b.WriteString("builds: []string{\n")
		for _, n := range r.builds {
			fmt.Fprintf(&b, "%s,\n", strconv.Quote(n))
		}
		b.WriteString("},\nlayout: ")
		if err := writeValue(&b, reflect.ValueOf(r.layout)); err != nil {
			return nil, err
		}
		b.WriteString(",\n},\n")
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("pycore: formatting the layout table: %w", err)
	}
	return src, nil
}

// goTypeName spells t as package pycore's source does.
func goTypeName(t reflect.Type) string {
	if t.Name() != "" && t.PkgPath() != "" {
		return t.Name()
	}
	return strings.ReplaceAll(t.String(), "pycore.", "")
}

// writeValue writes v as a Go expression.
func writeValue(b *bytes.Buffer, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Int, reflect.Int64:
		if v.Int() == absent {
			b.WriteString("absent")
		} else {
			b.WriteString(strconv.FormatInt(v.Int(), 10))
		}
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.String:
		b.WriteString(strconv.Quote(v.String()))
	case reflect.Struct:
		b.WriteString(goTypeName(v.Type()) + "{\n")
		for i := 0; i < v.NumField(); i++ {
			b.WriteString(v.Type().Field(i).Name + ": ")
			if err := writeValue(b, v.Field(i)); err != nil {
				return err
			}
			b.WriteString(",\n")
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Map:
		return writeCollection(b, v)
	default:
		return fmt.Errorf("pycore: the layout table cannot hold a %s", v.Type())
	}
	return nil
}

// writeCollection writes a slice or a map (its keys sorted), or nil.
func writeCollection(b *bytes.Buffer, v reflect.Value) error {
	if v.IsNil() {
		b.WriteString("nil")
		return nil
	}
	b.WriteString(goTypeName(v.Type()) + "{\n")
	if v.Kind() == reflect.Slice {
		for i := 0; i < v.Len(); i++ {
			if err := writeValue(b, v.Index(i)); err != nil {
				return err
			}
			b.WriteString(",\n")
		}
		b.WriteString("}")
		return nil
	}
	keys := v.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		if err := writeValue(b, k); err != nil {
			return err
		}
		b.WriteString(": ")
		if err := writeValue(b, v.MapIndex(k)); err != nil {
			return err
		}
		b.WriteString(",\n")
	}
	b.WriteString("}")
	return nil
}

// layoutsEqual reports whether two layouts are the same in every member.
func layoutsEqual(a, b *Layout) bool {
	return reflect.DeepEqual(a, b)
}
