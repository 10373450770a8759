#!/bin/sh
# Installs a Gridline agent on this host as a systemd service, and starts it.
#
#   curl -fsSL <your copy of this script> | sudo GRIDLINE_REPO=<git URL of Gridline> sh -s -- \
#     --server https://gridline.example.com --join-token <TOKEN> [--labels k=v,...] [--taints k=v:NoSchedule,...]
#   sudo sh tools/install/agent.sh --server ... --join-token ...      (from a checkout)
#
# Arguments go to `gridline-agent install` (see `--help`). Environment:
#   GRIDLINE_HOME  where Gridline is (or goes): default the checkout holding this script, else /opt/gridline
#   GRIDLINE_REPO  git URL to clone into GRIDLINE_HOME when it holds no Gridline yet
#   GRIDLINE_REF   branch or tag to clone (default: the repository's default branch)
# With --root DIR the files are written under DIR and nothing is started.
set -eu

NODE_MIN_MAJOR=20
NODE_MIN_MINOR=19

say() { printf 'gridline agent.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Node >= 20.19 (node-llama-cpp and Gridline's ESM runner need it).
command -v node >/dev/null 2>&1 || die "Node.js ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR} or newer is required: install it (https://nodejs.org/en/download) and run this again"
node_version=$(node -p 'process.versions.node')
node_major=${node_version%%.*}
node_rest=${node_version#*.}
node_minor=${node_rest%%.*}
if [ "$node_major" -lt "$NODE_MIN_MAJOR" ] || { [ "$node_major" -eq "$NODE_MIN_MAJOR" ] && [ "$node_minor" -lt "$NODE_MIN_MINOR" ]; }; then
  die "Node.js ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR} or newer is required, found ${node_version} ($(command -v node))"
fi

is_gridline() { [ -f "$1/package.json" ] && grep -q '"name": "gridline"' "$1/package.json"; }

script_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" 2>/dev/null && pwd || true)
if [ -z "${GRIDLINE_HOME:-}" ]; then
  if [ -n "$script_dir" ] && is_gridline "$script_dir/../.."; then
    GRIDLINE_HOME=$(CDPATH='' cd -- "$script_dir/../.." && pwd)
  else
    GRIDLINE_HOME=/opt/gridline
  fi
fi

if ! is_gridline "$GRIDLINE_HOME"; then
  [ -n "${GRIDLINE_REPO:-}" ] || die "no Gridline in $GRIDLINE_HOME: set GRIDLINE_REPO to its git URL (or GRIDLINE_HOME to a checkout)"
  command -v git >/dev/null 2>&1 || die "git is required to fetch Gridline"
  say "cloning $GRIDLINE_REPO into $GRIDLINE_HOME"
  if [ -n "${GRIDLINE_REF:-}" ]; then
    git clone --depth 1 --branch "$GRIDLINE_REF" "$GRIDLINE_REPO" "$GRIDLINE_HOME"
  else
    git clone --depth 1 "$GRIDLINE_REPO" "$GRIDLINE_HOME"
  fi
fi

main="$GRIDLINE_HOME/dist/apps/agent/src/main.js"
if [ ! -f "$main" ]; then
  say "building Gridline in $GRIDLINE_HOME"
  # llama.cpp comes prebuilt (CPU, CUDA, Vulkan) with node-llama-cpp's optional packages: never compile it here.
  (cd "$GRIDLINE_HOME" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund && npm run build)
fi

root=/
prev=
for arg in "$@"; do
  case "$arg" in
    --root=*) root=${arg#--root=} ;;
  esac
  [ "$prev" = --root ] && root=$arg
  prev=$arg
done

if [ "$root" = / ] && [ "$(id -u)" -ne 0 ]; then
  die "run it as root (sudo), or pass --root DIR to only write the files"
fi

status=0
node "$main" install "$@" || status=$?
[ "$status" -eq 0 ] || exit "$status"

if [ "$root" != / ]; then
  say "files written under $root; nothing started"
  exit 0
fi
command -v systemctl >/dev/null 2>&1 || die "systemctl not found: start the agent with your service manager, or use the Docker image (docker/agent.Dockerfile)"
if [ -f /etc/sysusers.d/gridline-agent.conf ]; then
  systemd-sysusers /etc/sysusers.d/gridline-agent.conf
fi
systemctl daemon-reload
systemctl enable gridline-agent
# restart, not start: a re-run with new settings takes effect now
systemctl restart gridline-agent
say "gridline-agent is running: journalctl -u gridline-agent -f"
