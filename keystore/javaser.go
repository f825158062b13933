package keystore

import (
	"encoding/binary"
	"fmt"
)

// JCEKS secret-key entries are Java-serialized objects (a javax.crypto.SealedObject,
// written by a fresh ObjectOutputStream per entry) with no length before them.
// Finding the entry after one means walking the serialization grammar (Java Object
// Serialization Specification, chapter 6) far enough to know where the object ends.
// Nothing is deserialized: only lengths and class layouts are read.

const (
	tcNull           = 0x70
	tcReference      = 0x71
	tcClassDesc      = 0x72
	tcObject         = 0x73
	tcString         = 0x74
	tcArray          = 0x75
	tcClass          = 0x76
	tcBlockData      = 0x77
	tcEndBlockData   = 0x78
	tcBlockDataLong  = 0x7a
	tcLongString     = 0x7c
	tcProxyClassDesc = 0x7d
	tcEnum           = 0x7e

	scWriteMethod  = 0x01
	scSerializable = 0x02
	scExternal     = 0x04
	scBlockData    = 0x08

	// Bounds against hostile input: real sealed keys hold a handful of objects.
	maxSerialDepth   = 32
	maxSerialHandles = 1024
)

type serialField struct {
	typ byte // primitive type code, or 'L' / '[' for objects
}

type serialClass struct {
	name   string
	flags  byte
	fields []serialField
	super  *serialClass
}

// serialSkipper walks one serialization stream inside a javaReader.
type serialSkipper struct {
	r       *javaReader
	handles []*serialClass // nil for handles that are not class descriptors
	depth   int
}

// skipJavaObject advances r past one serialized object, stream header included.
func skipJavaObject(r *javaReader) {
	if b := r.take(4); b != nil && binary.BigEndian.Uint32(b) != 0xaced0005 {
		r.err = failure(ErrCorrupt, "a secret-key entry is not a serialized Java object", "", nil)
		return
	}
	s := &serialSkipper{r: r}
	s.content()
}

func (s *serialSkipper) fail(what string) {
	if s.r.err == nil {
		s.r.err = failure(ErrCorrupt, "a secret-key entry cannot be read: "+what, "", nil)
	}
}

func (s *serialSkipper) byte() byte {
	if b := s.r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (s *serialSkipper) newHandle(c *serialClass) {
	if len(s.handles) >= maxSerialHandles {
		s.fail("too many objects")
		return
	}
	s.handles = append(s.handles, c)
}

// content reads one element of the stream and returns the class it describes
// when it is a class descriptor (or a reference to one).
func (s *serialSkipper) content() *serialClass {
	if s.r.err != nil {
		return nil
	}
	s.depth++
	defer func() { s.depth-- }()
	if s.depth > maxSerialDepth {
		s.fail("nested too deeply")
		return nil
	}
	switch tc := s.byte(); tc {
	case tcNull:
	case tcReference:
		h := int(s.r.u32()) - 0x7e0000
		if s.r.err == nil && (h < 0 || h >= len(s.handles)) {
			s.fail("a reference to an unknown object")
			return nil
		}
		if s.r.err == nil {
			return s.handles[h]
		}
	case tcClassDesc:
		c := &serialClass{name: s.r.utf()}
		s.r.take(8) // serialVersionUID
		s.newHandle(c)
		c.flags = s.byte()
		n := 0
		if b := s.r.take(2); b != nil {
			n = int(binary.BigEndian.Uint16(b))
		}
		for i := 0; i < n && s.r.err == nil; i++ {
			f := serialField{typ: s.byte()}
			s.r.utf() // field name
			if f.typ == 'L' || f.typ == '[' {
				s.content() // the field's class name, a string
			}
			c.fields = append(c.fields, f)
		}
		s.annotation()
		c.super = s.content()
		return c
	case tcProxyClassDesc:
		c := &serialClass{flags: scSerializable}
		s.newHandle(c)
		n := s.r.u32()
		for i := uint32(0); i < n && s.r.err == nil; i++ {
			s.r.utf()
		}
		s.annotation()
		c.super = s.content()
		return c
	case tcString:
		s.newHandle(nil)
		s.r.utf()
	case tcLongString:
		s.newHandle(nil)
		b := s.r.take(8)
		if b != nil {
			s.r.take(binary.BigEndian.Uint64(b))
		}
	case tcArray:
		c := s.content()
		s.newHandle(nil)
		n := s.r.u32()
		if c == nil || len(c.name) < 2 || c.name[0] != '[' {
			s.fail("an array without an array class")
			return nil
		}
		if size := primitiveSize(c.name[1]); size > 0 {
			s.r.take(uint64(n) * uint64(size))
		} else {
			for i := uint32(0); i < n && s.r.err == nil; i++ {
				s.content()
			}
		}
	case tcObject:
		c := s.content()
		s.newHandle(nil)
		if c == nil {
			s.fail("an object without a class")
			return nil
		}
		s.classData(c, 0)
	case tcClass:
		s.content()
		s.newHandle(nil)
	case tcEnum:
		s.content()
		s.newHandle(nil)
		s.content()
	case tcBlockData:
		s.r.take(uint64(s.byte()))
	case tcBlockDataLong:
		s.r.take(uint64(s.r.u32()))
	default:
		s.fail(fmt.Sprintf("unexpected type code 0x%02x", tc))
	}
	return nil
}

// annotation skips class annotations up to their end marker.
func (s *serialSkipper) annotation() {
	for i := 0; s.r.err == nil; i++ {
		if i > maxSerialHandles {
			s.fail("an annotation without end")
			return
		}
		if s.r.off < len(s.r.data) && s.r.data[s.r.off] == tcEndBlockData {
			s.r.off++
			return
		}
		s.content()
	}
}

// classData skips an object's fields, superclass first, and any data its
// writeObject method added.
func (s *serialSkipper) classData(c *serialClass, level int) {
	if level > maxSerialDepth {
		s.fail("a class hierarchy too deep")
		return
	}
	if c.super != nil {
		s.classData(c.super, level+1)
	}
	if c.flags&scExternal != 0 {
		if c.flags&scBlockData == 0 {
			s.fail("externalizable data in the old protocol")
			return
		}
		s.annotation()
		return
	}
	for _, f := range c.fields {
		if s.r.err != nil {
			return
		}
		if size := primitiveSize(f.typ); size > 0 {
			s.r.take(uint64(size))
		} else {
			s.content()
		}
	}
	if c.flags&scWriteMethod != 0 {
		s.annotation()
	}
}

// primitiveSize is the byte size of a primitive field type code, 0 for objects.
func primitiveSize(t byte) int {
	switch t {
	case 'B', 'Z':
		return 1
	case 'C', 'S':
		return 2
	case 'I', 'F':
		return 4
	case 'J', 'D':
		return 8
	}
	return 0
}
