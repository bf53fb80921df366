package image

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// goArch maps an ELF machine to the GOARCH (and OCI architecture) it runs.
var goArch = map[elf.Machine]string{
	elf.EM_X86_64:  "amd64",
	elf.EM_AARCH64: "arm64",
	elf.EM_386:     "386",
	elf.EM_PPC64:   "ppc64le",
	elf.EM_S390:    "s390x",
	elf.EM_RISCV:   "riscv64",
}

// PlatformOf returns the linux platform a binary runs on, read from its ELF
// header, and fails unless it is a statically linked executable: an image
// without a C library cannot run anything that asks for a dynamic loader.
func PlatformOf(executable []byte) (v1.Platform, error) {
	f, err := elf.NewFile(bytes.NewReader(executable))
	if err != nil {
		return v1.Platform{}, fmt.Errorf("image: the binary is not a Linux executable (%v); build it with GOOS=linux", err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC {
		return v1.Platform{}, errors.New("image: the binary is not a static executable (ELF type " + f.Type.String() + "); build it with CGO_ENABLED=0 and without -buildmode=pie")
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return v1.Platform{}, errors.New("image: the binary is dynamically linked (it names a program interpreter); build it with CGO_ENABLED=0")
		}
	}
	arch, ok := goArch[f.Machine]
	if !ok || (f.Machine == elf.EM_PPC64 && f.ByteOrder != binary.LittleEndian) {
		return v1.Platform{}, fmt.Errorf("image: the binary is for %v, which this image builder does not know; use GOARCH amd64, arm64, 386, ppc64le, s390x or riscv64", f.Machine)
	}
	return v1.Platform{OS: "linux", Architecture: arch}, nil
}
