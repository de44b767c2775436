# Sourced by the other scripts: puts the tools setup.sh installed on PATH.
# shellcheck shell=bash
export PATH="$HOME/.cargo/bin:$PATH"
# Node.js from PyPI, when the machine has none recent enough (setup.sh).
export POSTFLOW_NODE_HOME="${POSTFLOW_NODE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/postflow/node}"
if [ -x "$POSTFLOW_NODE_HOME/bin/node" ]; then
  export PATH="$POSTFLOW_NODE_HOME/bin:$PATH"
fi
# Tools built for the tests (tauri-driver), in a cache outside the clone.
export POSTFLOW_TOOLS="${POSTFLOW_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/postflow/tools}"
export PATH="$POSTFLOW_TOOLS/bin:$PATH"
