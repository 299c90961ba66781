#!/bin/sh
# Records tshark's dissection of the hand-built frames of
# pcapgen.DissectCases (dissector paths the shared corpus does not reach)
# in internal/decode/testdata/tshark/dissect.tsv, which TestDissectCases
# compares flowsift's dissection with. Run from the repository root after
# changing the cases (needs tshark). One line per case:
#   name  sha256-of-pcap  frame.protocols  ip.src  ip.dst  ipv6.src  ipv6.dst
#   tcp.srcport  tcp.dstport  udp.srcport  udp.dstport  sctp.srcport  sctp.dstport
#   eth.padding
# (fields of repeated layers are comma-separated, outermost first).
# CAPWAP is read as RFC 5415 says: 802.11 frame control not byte-swapped
# (tshark's default swaps it for some Cisco controllers) and fragments
# dissected one by one, not reassembled.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go run ./tools/mkdissect "$tmp"
out=internal/decode/testdata/tshark/dissect.tsv
{
  echo "# tshark $(tshark --version 2>/dev/null | head -1 | sed 's/^TShark (Wireshark) //; s/\.$//'), written by tools/tshark-dissect.sh"
  for f in "$tmp"/*.pcap; do
    name=$(basename "$f" .pcap)
    sum=$(sha256sum "$f" | cut -d' ' -f1)
    fields=$(tshark -o capwap.swap_fc:FALSE -o capwap.reassemble:FALSE -r "$f" -T fields -E separator=/t -E occurrence=a -E aggregator=, \
      -e frame.protocols -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst \
      -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport \
      -e sctp.srcport -e sctp.dstport -e eth.padding 2>/dev/null)
    printf '%s\t%s\t%s\n' "$name" "$sum" "$fields"
  done
} > "$out"
echo "wrote $out"
