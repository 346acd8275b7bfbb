#!/usr/bin/env bash
# Issue 16 acceptance "loss-slice figure": the plane through the end point of demo seed 14
# (60 s + 60 s; it holds two of the teacher's four neurons only as their mirrors, loss 5.8e-8)
# and the zero-loss point that embeds the demo teacher into the same 16-neuron student nearest
# that end point (gradflow landscape --through teacher), plain and minimised over the plane's
# orthogonal complement (3 damped Newton steps per grid point).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rec=${1:-$here/demo30/records/seed_14.json}
cargo build --release --manifest-path "$root/Cargo.toml" --bin gradflow
g="$root/target/release/gradflow"
"$g" landscape --record "$rec" --through teacher --points 41 -o "$here/slices/seed14-plain"
"$g" landscape --record "$rec" --through teacher --points 41 --minimise 3 -o "$here/slices/seed14-minimised"
