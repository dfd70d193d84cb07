package store

import "fmt"

// loadValue is one value of a row on its way to a bulk load, held as
// itself rather than in an interface: boxing a row's strings and numbers
// was nine small allocations a person, a million rows' worth of garbage
// for the collector to chase while the load ran on both cores.
type loadValue struct {
	text string
	num  int64
	kind valueKind
}

type valueKind uint8

const (
	nullValue valueKind = iota
	textValue
	intValue
)

func textOf(s string) loadValue { return loadValue{text: s, kind: textValue} }
func intOf(n int64) loadValue   { return loadValue{num: n, kind: intValue} }

// boxed is the value as database/sql takes it.
func (v loadValue) boxed() any {
	switch v.kind {
	case textValue:
		return v.text
	case intValue:
		return v.num
	}
	return nil
}

// loadValueOf is v as a loadValue; i is its parameter's number, for the
// error naming a type a load cannot bind.
func loadValueOf(i int, v any) (loadValue, error) {
	switch v := v.(type) {
	case string:
		return textOf(v), nil
	case int64:
		return intOf(v), nil
	case int:
		return intOf(int64(v)), nil
	case int32:
		return intOf(int64(v)), nil
	case nil:
		return loadValue{}, nil
	}
	return loadValue{}, fmt.Errorf("sqlite load: parameter %d: cannot bind a %T", i, v)
}

// typedSource is a rowSource that also serves its rows unboxed.
type typedSource interface {
	rowSource
	typedValues() []loadValue
}
