#!/usr/bin/env bash
# Puts the `mandate` command on the PATH without root: a symlink to cli/bin/mandate.js in
# MANDATE_BIN_DIR, else ~/.local/bin (the XDG user bin folder, on the PATH of most shells'
# default profiles). The launcher runs the build in cli/dist, so `make build` after a pull
# is all it needs. MANDATE_BIN_DIR=none skips the link.
set -euo pipefail

target="$(cd "$(dirname "$0")/.." && pwd)/bin/mandate.js"
bin_dir="${MANDATE_BIN_DIR:-$HOME/.local/bin}"
[[ "$bin_dir" == none ]] && exit 0
link="$bin_dir/mandate"

mkdir -p "$bin_dir"
if [[ -e "$link" || -L "$link" ]] && [[ "$(readlink "$link" || true)" != "$target" ]]; then
  echo "mandate: $link exists and is not this repository's; left as it is (set MANDATE_BIN_DIR to link elsewhere)." >&2
  exit 0
fi
ln -sfn "$target" "$link"
case ":$PATH:" in
  *":$bin_dir:"*) echo "mandate: linked $link" ;;
  *) echo "mandate: linked $link; add $bin_dir to your PATH to run \`mandate\` (or use \`npx mandate\` in the repository)." ;;
esac
