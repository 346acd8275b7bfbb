# Sourced by the peers scripts: sets $venv to a Python environment with the given packages
# (created on first use; PEERS_VENV points to an existing one) and builds gradflow.
#   source "$here/venv.sh" numpy torch jax
here=${here:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
root=$(cd "$here/../.." && pwd)
venv=${PEERS_VENV:-$here/.venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$@"
fi
cargo build --release --manifest-path "$root/Cargo.toml" --bin gradflow
mkdir -p "$here/results"
