#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerates the known traffic and the exporter captures in this directory.
#   collector/test/exporters/regen.sh [capture-file ...]     (no argument: everything)
# Needs: /usr/bin/python3 with scapy (python3-scapy), softflowd, pmacctd, tshark, and the right to capture
# on the loopback interface (root or CAP_NET_RAW for dumpcap). Only 127.0.0.1 is ever sent to; the ports
# 2055, 4739 and 6343 on 127.0.0.1 must be free while it runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

# 1. Known traffic: traffic.pcap + expected-flows.json (deterministic; rerunning changes nothing).
/usr/bin/python3 "$here/make-traffic.py" "$here"

# 2. Exporters -> loopback -> tshark capture, through collector/test/helpers/exporters.ts. regen.ts is
#    transpiled on the fly by the workspace's own TypeScript (no ts-node needed).
cd "$root"
node -e '
const ts = require("typescript"), fs = require("fs");
require.extensions[".ts"] = (m, f) => m._compile(ts.transpileModule(fs.readFileSync(f, "utf8"), {
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
}).outputText, f);
require(process.argv[1]);
' "$here/regen.ts" "$@"
