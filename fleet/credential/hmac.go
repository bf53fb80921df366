package credential

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"sync"
)

// hashKind selects the hash of an HMAC. All three have 64-byte blocks.
type hashKind uint8

const (
	hashSHA256 hashKind = iota
	hashSHA1
	hashMD5
)

const hmacBlock = 64

// sum appends the digest of data to dst. The fixed-size Sum functions do not
// allocate, unlike hash.Hash values.
func (k hashKind) sum(dst, data []byte) []byte {
	switch k {
	case hashSHA1:
		s := sha1.Sum(data)
		return append(dst, s[:]...)
	case hashMD5:
		s := md5.Sum(data)
		return append(dst, s[:]...)
	default:
		s := sha256.Sum256(data)
		return append(dst, s[:]...)
	}
}

// scratch is per-call working memory, pooled so that signing allocates
// nothing. sync.Pool keeps per-P caches, so there is no lock every device
// goroutine fights over.
type scratch struct {
	msg []byte // the string to sign
	pad []byte // key block ^ pad || message
	out []byte // the token or password being built
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{msg: make([]byte, 0, 256), pad: make([]byte, 0, 384), out: make([]byte, 0, 256)}
}}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	if cap(s.msg) > 64<<10 || cap(s.pad) > 64<<10 || cap(s.out) > 64<<10 {
		return // do not keep a huge buffer alive
	}
	scratchPool.Put(s)
}

// appendHMAC appends HMAC_k(key, msg) (RFC 2104) to dst, using s.pad as
// working memory. It is crypto/hmac's construction spelled out over the
// allocation-free Sum functions, because crypto/hmac cannot be re-keyed and
// a fresh hmac.New per device costs several allocations; the tests check it
// against crypto/hmac for keys shorter than, equal to and longer than a block.
func appendHMAC[K, M string | []byte](dst []byte, k hashKind, key K, msg M, s *scratch) []byte {
	var kb [hmacBlock]byte
	var kl []byte
	if len(key) > hmacBlock {
		s.pad = append(s.pad[:0], key...)
		kl = k.sum(kb[:0], s.pad)
	} else {
		kl = append(kb[:0], key...)
	}
	pad := s.pad[:0]
	for i := 0; i < hmacBlock; i++ {
		var c byte
		if i < len(kl) {
			c = kl[i]
		}
		pad = append(pad, c^0x36)
	}
	pad = append(pad, msg...)
	var ib [32]byte
	inner := k.sum(ib[:0], pad)
	pad = pad[:0]
	for i := 0; i < hmacBlock; i++ {
		var c byte
		if i < len(kl) {
			c = kl[i]
		}
		pad = append(pad, c^0x5c)
	}
	pad = append(pad, inner...)
	dst = k.sum(dst, pad)
	s.pad = pad
	return dst
}
