package scenario

import (
	"fmt"
	"net/netip"
	"strings"
)

// MaxSourceAddresses is the most addresses connect.source_addresses may
// name, CIDRs expanded (a /20 of IPv4): each (source, endpoint) pair
// carries up to one ephemeral port range of connections (about 28,000 by
// default), so 4,096 sources reach far beyond what one machine's memory
// holds, and a larger list is a typo (a /8 for a /28).
const MaxSourceAddresses = 4096

// sourceAddresses decodes connect.source_addresses: IP addresses and
// CIDR prefixes, expanded in order into distinct addresses of one family.
func (d *decoder) sourceAddresses(v *node, p string) []netip.Addr {
	items, paths := d.listItems(v, p, "[127.0.0.2, 127.0.0.3] or 127.0.0.0/28")
	var out []netip.Addr
	from := map[netip.Addr]string{} // address -> the item that named it
	for i, item := range items {
		addrs, ok := d.sourceItem(item, paths[i], MaxSourceAddresses-len(out))
		if !ok {
			continue
		}
		if len(out) > 0 && out[0].Is4() != addrs[0].Is4() {
			d.report(item.pos, paths[i], "mixes IPv4 and IPv6 source addresses",
				"list addresses of one family: the family of the target endpoints")
			continue
		}
		if a, first := repeated(addrs, from); first != "" {
			d.report(item.pos, paths[i], fmt.Sprintf("%s is already in %s", a, first), "list each address once")
			continue
		}
		for _, a := range addrs {
			from[a] = fmt.Sprintf("%s (%s)", paths[i], item.text)
		}
		out = append(out, addrs...)
	}
	return out
}

// repeated returns the first of addrs already in from, and the item that
// named it; "" when there is none.
func repeated(addrs []netip.Addr, from map[netip.Addr]string) (netip.Addr, string) {
	for _, a := range addrs {
		if first, ok := from[a]; ok {
			return a, first
		}
	}
	return netip.Addr{}, ""
}

// sourceItem decodes one item: an address, or a prefix expanded to its
// usable addresses. room is how many more addresses the list may take.
func (d *decoder) sourceItem(v *node, p string, room int) ([]netip.Addr, bool) {
	s, ok := d.nonEmpty(v, p)
	if !ok {
		return nil, false
	}
	const example = "write an IP address such as 127.0.0.2 or a CIDR such as 127.0.0.0/28"
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			d.report(v.pos, p, fmt.Sprintf("%s is not an IP address", show(s)), example+" (a source address is this machine's, not a host name)")
			return nil, false
		}
		a = a.Unmap()
		if !d.usableSource(v, p, a) {
			return nil, false
		}
		if room < 1 {
			d.report(v.pos, p, fmt.Sprintf("the list names more than %d addresses", MaxSourceAddresses), "list fewer addresses")
			return nil, false
		}
		return []netip.Addr{a}, true
	}
	pf, err := netip.ParsePrefix(s)
	if err != nil {
		d.report(v.pos, p, fmt.Sprintf("%s is not a CIDR prefix", show(s)), example)
		return nil, false
	}
	if m := pf.Masked(); m != pf {
		first, last, _ := usableRange(m)
		d.report(v.pos, p, fmt.Sprintf("%s has bits set beyond its /%d", s, pf.Bits()),
			fmt.Sprintf("did you mean %s (%s to %s)?", m, first, last))
		return nil, false
	}
	first, last, n := usableRange(pf)
	if n > uint64(room) {
		d.report(v.pos, p, fmt.Sprintf("%s holds %s usable addresses; the list may name at most %d in all", s, countText(n), MaxSourceAddresses),
			"use a longer prefix, e.g. "+shorter(pf)+", or list the addresses wanted")
		return nil, false
	}
	if !d.usableSource(v, p, first) {
		return nil, false
	}
	out := make([]netip.Addr, 0, n)
	for a := first; ; a = a.Next() {
		out = append(out, a)
		if a == last {
			break
		}
	}
	return out, true
}

// usableSource reports a that no connection can come from.
func (d *decoder) usableSource(v *node, p string, a netip.Addr) bool {
	switch {
	case a.IsUnspecified():
		d.report(v.pos, p, a.String()+" is the unspecified address", "remove connect.source_addresses to let the kernel choose, or name this machine's addresses")
	case a.IsMulticast():
		d.report(v.pos, p, a.String()+" is a multicast address", "name this machine's own addresses")
	case a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		d.report(v.pos, p, a.String()+" is the broadcast address", "name this machine's own addresses")
	default:
		return true
	}
	return false
}

// usableRange is the first and last address of pf a host may use, and how
// many there are: an IPv4 prefix shorter than /31 loses its network and
// broadcast addresses, an IPv6 prefix shorter than /127 its subnet-router
// anycast address (the first). n saturates at 1<<63.
func usableRange(pf netip.Prefix) (first, last netip.Addr, n uint64) {
	first = pf.Addr()
	hostBits := first.BitLen() - pf.Bits()
	b := first.AsSlice()
	for i := range b {
		if bit := i * 8; bit+8 > pf.Bits() {
			keep := max(pf.Bits()-bit, 0)
			b[i] |= byte(0xff >> keep)
		}
	}
	last, _ = netip.AddrFromSlice(b)
	n = uint64(1) << 63
	if hostBits < 63 {
		n = uint64(1) << hostBits
	}
	if hostBits > 1 {
		first = first.Next()
		n--
		if first.Is4() {
			last = last.Prev()
			n--
		}
	}
	return first, last, n
}

// countText writes a possibly huge address count readably.
func countText(n uint64) string {
	if n >= 1<<63 {
		return "more than 9e18"
	}
	return fmt.Sprint(n)
}

// shorter suggests the prefix of pf's family that fits
// MaxSourceAddresses, at pf's start.
func shorter(pf netip.Prefix) string {
	bits := pf.Addr().BitLen() - 12 // 2^12 = MaxSourceAddresses
	return netip.PrefixFrom(pf.Addr(), bits).Masked().String()
}

// finishSources checks source addresses against the target: a device
// connects from its source address to its endpoint, so the two must be of
// one family, and a loopback source reaches only loopback endpoints.
// Endpoints named by host name are resolved only at the run.
func (d *decoder) finishSources(c *Connect, t *Target) {
	if len(c.SourceAddresses) == 0 {
		return
	}
	src := c.SourceAddresses[0]
	hosts := []string{t.Host}
	for _, e := range t.Endpoints {
		hosts = append(hosts, e.Host)
	}
	for _, h := range hosts {
		dst, err := netip.ParseAddr(h)
		if err != nil {
			continue
		}
		dst = dst.Unmap()
		switch {
		case dst.Is4() != src.Is4():
			d.fail("connect.source_addresses", fmt.Sprintf("devices connecting from %s cannot reach %s: the addresses are of different families", src, dst),
				"list source addresses of the endpoints' family")
			return
		case src.IsLoopback() && !dst.IsLoopback():
			d.fail("connect.source_addresses", fmt.Sprintf("devices connecting from the loopback address %s cannot reach %s", src, dst),
				"name addresses of the network interface that reaches the target")
			return
		}
	}
}
