#!/usr/bin/env bash
# Generates the Ed25519 key pair that signs Hearth's JWTs.
# The private key is the root of authentication: anyone holding it can mint a token for any user,
# so it is written with mode 600 and never overwritten by accident (rotation logs everyone out).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/generate-keys.sh [--out-dir DIR] [--force]

Creates an Ed25519 key pair for JWT signing:
  DIR/jwt_private.pem  (mode 600)
  DIR/jwt_public.pem   (mode 644)

Options:
  --out-dir DIR  where to write the keys (default: <repository>/secrets)
  --force        replace existing keys; the old ones are kept as *.pem.bak.
                 Rotating keys signs every user out (tokens stop verifying).
  -h, --help     show this help
USAGE
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="$repo_root/secrets"
force=false

while [[ $# -gt 0 ]]; do
  case "$1" in
    --out-dir) [[ $# -ge 2 ]] || { echo "error: --out-dir needs a value" >&2; exit 2; }; out_dir="$2"; shift 2 ;;
    --out-dir=*) out_dir="${1#*=}"; shift ;;
    --force) force=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

command -v openssl >/dev/null || { echo "error: openssl is required" >&2; exit 1; }

private_key="$out_dir/jwt_private.pem"
public_key="$out_dir/jwt_public.pem"

if [[ -e "$private_key" || -e "$public_key" ]]; then
  if [[ "$force" != true ]]; then
    echo "error: $private_key or $public_key already exists; refusing to overwrite." >&2
    echo "       Replacing the keys signs every user out. Use --force to rotate them." >&2
    exit 1
  fi
  for f in "$private_key" "$public_key"; do
    if [[ -e "$f" ]]; then mv -f "$f" "$f.bak"; fi
  done
  echo "Old keys kept as $private_key.bak and $public_key.bak"
fi

# The directory holds secrets only: keep other users out of it.
mkdir -p "$out_dir"
chmod 700 "$out_dir"

# umask 077 so the private key is never readable by others, not even for an instant.
(
  umask 077
  tmp="$(mktemp "$out_dir/.jwt_private.XXXXXX")"
  trap 'rm -f "$tmp"' EXIT
  openssl genpkey -algorithm Ed25519 -out "$tmp" 2>/dev/null
  openssl pkey -in "$tmp" -pubout -out "$public_key"
  mv "$tmp" "$private_key"
  trap - EXIT
)
chmod 600 "$private_key"
chmod 644 "$public_key"

echo "Wrote $private_key (600) and $public_key (644)"

# The container runs as uid 1000 ("bun") and Docker bind-mounts file secrets with host ownership,
# so a 600 key owned by another uid cannot be read inside the container.
if [[ "$(id -u)" != "1000" ]]; then
  echo "note: the Hearth container runs as uid 1000. If you use Docker, let it read the key:"
  echo "      sudo chown 1000:1000 '$private_key' '$public_key'"
fi
