#!/usr/bin/env bash
# Backs up what Hearth cannot recreate: the database and the uploaded (encrypted) files.
# The JWT keys and TOTP_ENCRYPTION_KEY are NOT included on purpose: keep them apart from the
# data they protect (see docs/operations.md, "Backups").
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/backup.sh [--mode compose|url|embedded] [--out DIR] [options]

Writes a backup directory (mode 700) containing:
  db.dump          pg_dump --format=custom of the database      (compose and url modes)
  files.tar.gz     the uploaded files (FILE_STORAGE_PATH)        (compose and url modes)
  data-dir.tar.gz  the whole DATA_DIR, embedded database included (embedded mode)
  MANIFEST, SHA256SUMS

Modes (default: url if DATABASE_URL is set, else compose if compose.yml and docker exist):
  compose   the Docker Compose stack: pg_dump runs inside the postgres container (its version
            always matches the server), files are read through the hearth image. The postgres
            service must be running.
  url       PostgreSQL at DATABASE_URL (or --database-url) with the local pg_dump (its major
            version must be >= the server's), files from FILE_STORAGE_PATH or DATA_DIR/files.
  embedded  embedded PGlite (no DATABASE_URL): copies DATA_DIR. STOP THE SERVER FIRST: PGlite
            files copied while the server runs can be inconsistent.

Options:
  --out DIR            backup directory (default: ./backups/hearth-<UTC time>)
  --database-url URL   url mode: database to dump (default: $DATABASE_URL)
  --data-dir DIR       url/embedded modes: DATA_DIR (default: $DATA_DIR or ./data)
  --files-dir DIR      url mode: uploaded files (default: $FILE_STORAGE_PATH or DATA_DIR/files)
  -h, --help           show this help

Restore with scripts/restore.sh DIR.
USAGE
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode=""
out=""
database_url="${DATABASE_URL:-}"
data_dir="${DATA_DIR:-./data}"
files_dir="${FILE_STORAGE_PATH:-}"

need_value() { [[ $# -ge 2 ]] || { echo "error: $1 needs a value" >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mode) need_value "$@"; mode="$2"; shift 2 ;;
    --out) need_value "$@"; out="$2"; shift 2 ;;
    --database-url) need_value "$@"; database_url="$2"; shift 2 ;;
    --data-dir) need_value "$@"; data_dir="$2"; shift 2 ;;
    --files-dir) need_value "$@"; files_dir="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

if [[ -z "$mode" ]]; then
  if [[ -n "$database_url" ]]; then
    mode=url
  elif [[ -f "$repo_root/compose.yml" ]] && command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
    mode=compose
  else
    echo "error: cannot tell how Hearth runs here; pass --mode compose|url|embedded" >&2
    exit 2
  fi
fi
case "$mode" in compose|url|embedded) ;; *) echo "error: unknown mode: $mode" >&2; exit 2 ;; esac

# Backups hold account data, ciphertext and metadata (and, once webhooks exist, their plaintext): owner-only.
umask 077
out="${out:-./backups/hearth-$(date -u +%Y%m%dT%H%M%SZ)}"
if [[ -e "$out" ]] && [[ -n "$(ls -A "$out" 2>/dev/null)" ]]; then
  echo "error: $out exists and is not empty" >&2
  exit 1
fi
mkdir -p "$out"
chmod 700 "$out"

# Remove a half-written backup rather than leave something that looks complete.
complete=false
cleanup() { if [[ "$complete" != true ]]; then echo "backup failed; removing $out" >&2; rm -rf "$out"; fi; }
trap cleanup EXIT

compose() { docker compose --project-directory "$repo_root" "$@"; }

case "$mode" in
  compose)
    echo "Dumping the database from the postgres service..."
    compose exec -T postgres pg_dump -U hearth -d hearth --format=custom >"$out/db.dump"
    echo "Archiving uploaded files from the hearth_data volume..."
    # A throwaway container of the hearth image with the data volume; $FILE_STORAGE_PATH and
    # $DATA_DIR are expanded inside it, so a custom FILE_STORAGE_PATH in .env is honoured.
    # shellcheck disable=SC2016
    compose run --rm --no-deps -T --entrypoint sh hearth -c \
      'd="${FILE_STORAGE_PATH:-$DATA_DIR/files}"; mkdir -p "$d" && tar -C "$d" -czf - .' >"$out/files.tar.gz"
    ;;
  url)
    [[ -n "$database_url" ]] || { echo "error: url mode needs DATABASE_URL or --database-url" >&2; exit 2; }
    command -v pg_dump >/dev/null || { echo "error: pg_dump is required (postgresql-client)" >&2; exit 1; }
    echo "Dumping the database with $(pg_dump --version)..."
    pg_dump --format=custom --file="$out/db.dump" "$database_url"
    files_dir="${files_dir:-$data_dir/files}"
    if [[ -d "$files_dir" ]]; then
      echo "Archiving uploaded files from $files_dir..."
      tar -C "$files_dir" -czf "$out/files.tar.gz" .
    else
      echo "note: $files_dir does not exist (no uploads yet); writing an empty archive"
      tar -czf "$out/files.tar.gz" -T /dev/null
    fi
    ;;
  embedded)
    [[ -d "$data_dir" ]] || { echo "error: DATA_DIR $data_dir does not exist" >&2; exit 1; }
    echo "Embedded mode: the Hearth server must be STOPPED while DATA_DIR is copied."
    echo "Archiving $data_dir..."
    tar -C "$data_dir" -czf "$out/data-dir.tar.gz" .
    ;;
esac

{
  echo "mode=$mode"
  echo "created=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "hearth_commit=$(git -C "$repo_root" rev-parse HEAD 2>/dev/null || echo unknown)"
} >"$out/MANIFEST"
(
  cd "$out"
  shopt -s nullglob
  artifacts=(*.dump *.tar.gz)
  sha256sum -- "${artifacts[@]}" >SHA256SUMS
)

complete=true
echo "Backup written to $out"
echo "Reminder: secrets/ (JWT keys) and TOTP_ENCRYPTION_KEY from .env are not in it; keep a"
echo "separate copy of them. Without TOTP_ENCRYPTION_KEY every 2FA user is locked out."
