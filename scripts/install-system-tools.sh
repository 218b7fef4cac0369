#!/usr/bin/env bash
# The system packages the test suite drives (npm test runs this first; idempotent, and quick when
# everything is there): openssl (test certificates), iproute2 (ip netns test hosts), prlimit and
# flock (the daemon locks its home with flock(1)), perl, promtool (checks every metrics scrape),
# chromium (the dashboard's browser test: playwright-core drives Debian's chromium, no browser
# download), zsh and fish (the completion scripts are run in them). As root with apt-get it
# installs what is missing; otherwise it names what is missing, and the tests that need it skip
# themselves saying why (openssl is required).
set -euo pipefail
missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v ip >/dev/null || missing+=(iproute2)
command -v prlimit >/dev/null || missing+=(util-linux)
command -v flock >/dev/null || missing+=(util-linux) # the daemon locks its home with flock(1)
command -v perl >/dev/null || missing+=(perl)
command -v promtool >/dev/null || missing+=(prometheus) # promtool checks every metrics scrape
# The web dashboard's browser test drives Debian's chromium with playwright-core (no browser download).
command -v chromium >/dev/null || command -v chromium-headless-shell >/dev/null || missing+=(chromium)
command -v zsh >/dev/null || missing+=(zsh)   # `corral completion zsh` is run in zsh
command -v fish >/dev/null || missing+=(fish) # `corral completion fish` is run in fish
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "missing system tools: ${missing[*]} (apt-get install them)" >&2
    command -v openssl >/dev/null || exit 1
  fi
fi
openssl version
if command -v ip >/dev/null; then echo "iproute2: $(ip -V)"; else echo "iproute2 missing: the network-namespace tests will be skipped"; fi

