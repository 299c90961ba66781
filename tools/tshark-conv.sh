#!/usr/bin/env bash
# Records tshark's conversation tables for the captures whose link type
# Tranalyzer refuses; TestRefusedLinkTypesMatchTshark compares flowsift's
# flows with them. Usage: tools/tshark-conv.sh [SHARED]   (needs tshark)
set -euo pipefail
shared=${1:-../shared}
out=internal/engine/testdata/tshark
mkdir -p "$out"
for f in public/linktypes/simple_http_sll2.pcap public/linktypes/decode-sll2-01.pcap \
         public/linktypes/nflog-http.pcap public/linktypes/LINKTYPE_PKTAP.pcap \
         public/linktypes/ipoib.pcap public/truncated-malformed/llc.pcap \
         generated/15_linktype_sll2.pcap; do
  name=$(basename "$f"); name=${name%.*}
  { echo "# tshark $(tshark --version | head -1 | sed 's/^TShark (Wireshark) //') -q -z conv,ip -z conv,ipv6 -z conv,tcp -z conv,udp -r $f"
    tshark -q -z conv,ip -z conv,ipv6 -z conv,tcp -z conv,udp -r "$shared/corpus/$f" 2>/dev/null; } > "$out/$name.txt"
done
