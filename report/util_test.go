package report

import "unsafe"

func uintptrOf(s *Shard) uintptr { return uintptr(unsafe.Pointer(s)) }
