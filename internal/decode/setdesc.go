package decode

// SetDesc replaces the header description with s (cut to the buffer). It
// exists for code that builds packets by hand — plugin tests — since the
// description buffer is otherwise filled only by dissection.
func (p *Packet) SetDesc(s string) {
	p.descLen = copy(p.desc[:], s)
}
