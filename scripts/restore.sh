#!/usr/bin/env bash
# Restores a backup written by scripts/backup.sh. Destructive: the current database contents
# and uploaded files are replaced. Restore into the same or a newer Hearth version (migrations
# then bring the schema forward at boot); never into an older one.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/restore.sh BACKUP_DIR [--yes] [--mode compose|url|embedded] [options]

Replaces the database and uploaded files with the contents of BACKUP_DIR. The mode defaults to
the one recorded in BACKUP_DIR/MANIFEST.

  compose   stops the hearth service, pg_restore --clean inside the postgres container, replaces
            the files in the hearth_data volume, then starts hearth again.
  url       pg_restore --clean into DATABASE_URL (or --database-url) and replaces
            FILE_STORAGE_PATH (or DATA_DIR/files). Stop every Hearth instance first.
  embedded  replaces DATA_DIR with the archived one (the old one is kept as DATA_DIR.before-restore-*).
            The server must be stopped.

Options:
  --yes                do not ask for confirmation
  --database-url URL   url mode: target database (default: $DATABASE_URL)
  --data-dir DIR       url/embedded modes: DATA_DIR (default: $DATA_DIR or ./data)
  --files-dir DIR      url mode: uploaded files (default: $FILE_STORAGE_PATH or DATA_DIR/files)
  -h, --help           show this help
USAGE
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
backup=""
mode=""
assume_yes=false
database_url="${DATABASE_URL:-}"
data_dir="${DATA_DIR:-./data}"
files_dir="${FILE_STORAGE_PATH:-}"

need_value() { [[ $# -ge 2 ]] || { echo "error: $1 needs a value" >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mode) need_value "$@"; mode="$2"; shift 2 ;;
    --yes|-y) assume_yes=true; shift ;;
    --database-url) need_value "$@"; database_url="$2"; shift 2 ;;
    --data-dir) need_value "$@"; data_dir="$2"; shift 2 ;;
    --files-dir) need_value "$@"; files_dir="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "error: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    *) [[ -z "$backup" ]] || { echo "error: one backup directory only" >&2; exit 2; }; backup="$1"; shift ;;
  esac
done

[[ -n "$backup" ]] || { usage >&2; exit 2; }
[[ -d "$backup" ]] || { echo "error: $backup is not a directory" >&2; exit 1; }

if [[ -z "$mode" && -f "$backup/MANIFEST" ]]; then
  mode="$(sed -n 's/^mode=//p' "$backup/MANIFEST" | head -n 1)"
fi
case "$mode" in
  compose|url|embedded) ;;
  "") echo "error: $backup/MANIFEST has no mode; pass --mode" >&2; exit 2 ;;
  *) echo "error: unknown mode: $mode" >&2; exit 2 ;;
esac

# Refuse a damaged or tampered backup before touching anything.
if [[ -f "$backup/SHA256SUMS" ]]; then
  (cd "$backup" && sha256sum --quiet -c SHA256SUMS) || { echo "error: checksum mismatch in $backup" >&2; exit 1; }
fi

required=(db.dump files.tar.gz)
[[ "$mode" == embedded ]] && required=(data-dir.tar.gz)
for f in "${required[@]}"; do
  [[ -f "$backup/$f" ]] || { echo "error: $backup/$f is missing (mode $mode)" >&2; exit 1; }
done

if [[ "$assume_yes" != true ]]; then
  if [[ ! -t 0 ]]; then
    echo "error: this replaces the current data; pass --yes to confirm" >&2
    exit 2
  fi
  read -r -p "Replace the current Hearth data with $backup ($mode mode)? [y/N] " answer
  [[ "$answer" == [yY]* ]] || { echo "aborted"; exit 1; }
fi

compose() { docker compose --project-directory "$repo_root" "$@"; }

case "$mode" in
  compose)
    echo "Stopping hearth..."
    compose stop hearth
    compose up -d --wait postgres
    echo "Restoring the database..."
    compose exec -T postgres pg_restore -U hearth -d hearth --clean --if-exists --no-owner \
      --single-transaction <"$backup/db.dump"
    echo "Restoring uploaded files..."
    # shellcheck disable=SC2016
    compose run --rm --no-deps -T --entrypoint sh hearth -c \
      'd="${FILE_STORAGE_PATH:-$DATA_DIR/files}"; mkdir -p "$d" && find "$d" -mindepth 1 -delete && tar -C "$d" -xzf -' \
      <"$backup/files.tar.gz"
    echo "Starting hearth..."
    compose up -d hearth
    ;;
  url)
    [[ -n "$database_url" ]] || { echo "error: url mode needs DATABASE_URL or --database-url" >&2; exit 2; }
    command -v pg_restore >/dev/null || { echo "error: pg_restore is required (postgresql-client)" >&2; exit 1; }
    echo "Restoring the database..."
    pg_restore --clean --if-exists --no-owner --single-transaction -d "$database_url" "$backup/db.dump"
    files_dir="${files_dir:-$data_dir/files}"
    echo "Restoring uploaded files into $files_dir..."
    mkdir -p "$files_dir"
    find "$files_dir" -mindepth 1 -delete
    tar -C "$files_dir" -xzf "$backup/files.tar.gz"
    ;;
  embedded)
    echo "Embedded mode: the Hearth server must be STOPPED."
    if [[ -e "$data_dir" ]]; then
      aside="${data_dir%/}.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
      mv "$data_dir" "$aside"
      echo "Kept the previous DATA_DIR as $aside"
    fi
    mkdir -p "$data_dir"
    chmod 700 "$data_dir"
    tar -C "$data_dir" -xzf "$backup/data-dir.tar.gz"
    ;;
esac

echo "Restore from $backup done."
