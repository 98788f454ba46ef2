# The demo's second session (run by demo.sh under examples/demo-network.json, network proxy):
# an agent fetching over HTTP. Its requests go through the supervisor's proxy, which lets through
# the one host the profile allows and refuses the rest with a reason. $1 is the port of the
# demo's package server on the host's loopback.
port=$1
# The sandbox's NO_PROXY keeps loopback names off the proxy (its loopback is its own); the demo's
# server is on the host's, so this session asks for it through the proxy.
unset NO_PROXY no_proxy
fetch() {  # fetch WHAT URL: what the agent tries, and what it got
  out=$(python3 - "$2" 2>&1 <<'PY'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
        print(r.status, r.read().decode().strip())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
PY
)
  case $out in
    200*) printf '  \033[32mallowed\033[0m  %-44s %s\n' "$1" "$(echo "$out" | cut -c1-70)" ;;
    *) printf '  \033[31mdenied \033[0m  %-44s %s\n' "$1" \
         "$(echo "$out" | cut -c5- | sed 's/^tollgate: .* refused by profile [^:]*: //' | cut -c1-90)" ;;
  esac
}
echo "The agent fetches (through the proxy; only localhost:$port is allowed):"
fetch "the package index (localhost:$port)" "http://localhost:$port/"
fetch "a site not on the list (example.com)" "http://example.com/"
fetch "cloud metadata (169.254.169.254)" "http://169.254.169.254/latest/meta-data/"
fetch "the index by a name with a NUL byte" "http://localhost%00.evil.test:$port/"
