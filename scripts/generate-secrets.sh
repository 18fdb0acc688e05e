#!/usr/bin/env bash
# First-install helper: JWT keys plus the random values .env needs.
# It only fills in what is missing, so running it again never changes a secret that is in use
# (a new TOTP_ENCRYPTION_KEY would lock out every 2FA user; a new DB_PASSWORD would not match the
# password PostgreSQL was initialised with).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/generate-secrets.sh [--env-file FILE] [--secrets-dir DIR]

  1. Creates the JWT key pair with scripts/generate-keys.sh (skipped if both keys exist), and an
     empty secrets/registry_creds for the updater profile (anonymous pulls) if there is none.
  2. Creates .env from .env.example if .env does not exist (mode 600).
  3. Fills DB_PASSWORD (32 random characters), TOTP_ENCRYPTION_KEY (openssl rand -hex 32) and
     TURN_AUTH_SECRET (openssl rand -hex 32) when they are empty or commented out.
     Values already set are never overwritten.

Options:
  --env-file FILE    the .env to create/complete (default: <repository>/.env)
  --secrets-dir DIR  where the JWT keys go (default: <repository>/secrets)
  -h, --help         show this help
USAGE
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
env_file="$repo_root/.env"
secrets_dir="$repo_root/secrets"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --env-file) [[ $# -ge 2 ]] || { echo "error: --env-file needs a value" >&2; exit 2; }; env_file="$2"; shift 2 ;;
    --env-file=*) env_file="${1#*=}"; shift ;;
    --secrets-dir) [[ $# -ge 2 ]] || { echo "error: --secrets-dir needs a value" >&2; exit 2; }; secrets_dir="$2"; shift 2 ;;
    --secrets-dir=*) secrets_dir="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

command -v openssl >/dev/null || { echo "error: openssl is required" >&2; exit 1; }

# 1. JWT keys. generate-keys.sh refuses to overwrite; here "already there" is success.
if [[ -e "$secrets_dir/jwt_private.pem" && -e "$secrets_dir/jwt_public.pem" ]]; then
  echo "JWT keys already exist in $secrets_dir (kept)"
else
  "$repo_root/scripts/generate-keys.sh" --out-dir "$secrets_dir"
fi

# 1b. Registry credentials of the updater profile: empty means anonymous pulls (compose needs
# the file to exist; docs/operations.md "Managed updates").
if [[ ! -e "$secrets_dir/registry_creds" ]]; then
  (umask 077; : >"$secrets_dir/registry_creds")
  echo "Created an empty $secrets_dir/registry_creds (the updater pulls anonymously)"
fi

# 2. .env from the template.
if [[ ! -e "$env_file" ]]; then
  if [[ ! -f "$repo_root/.env.example" ]]; then
    echo "error: $repo_root/.env.example not found" >&2
    exit 1
  fi
  (umask 077; cp "$repo_root/.env.example" "$env_file")
  echo "Created $env_file from .env.example"
fi
# .env holds the database password and the TOTP key: owner-only.
chmod 600 "$env_file"

# Prints the current uncommented value of NAME in the env file ("" if absent or empty).
current_value() {
  local name="$1" line value=""
  while IFS= read -r line || [[ -n "$line" ]]; do
    if [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?${name}=(.*)$ ]]; then
      value="${BASH_REMATCH[2]}"
    fi
  done <"$env_file"
  # Strip one level of quotes and a trailing comment on unquoted values.
  value="${value%%[[:space:]]#*}"
  value="${value#"${value%%[![:space:]]*}"}"
  value="${value%"${value##*[![:space:]]}"}"
  value="${value#\"}"; value="${value%\"}"
  value="${value#\'}"; value="${value%\'}"
  printf '%s' "$value"
}

# Sets NAME=VALUE: replaces the first "NAME=" or "# NAME=" line, or appends one.
set_value() {
  local name="$1" value="$2" tmp done=false line
  tmp="$(mktemp "$env_file.XXXXXX")"
  while IFS= read -r line || [[ -n "$line" ]]; do
    if [[ "$done" == false && "$line" =~ ^[[:space:]]*(#[[:space:]]*)?(export[[:space:]]+)?${name}= ]]; then
      printf '%s=%s\n' "$name" "$value" >>"$tmp"
      done=true
    else
      printf '%s\n' "$line" >>"$tmp"
    fi
  done <"$env_file"
  if [[ "$done" == false ]]; then printf '%s=%s\n' "$name" "$value" >>"$tmp"; fi
  chmod 600 "$tmp"
  mv "$tmp" "$env_file"
}

# 32 alphanumeric characters: safe inside a postgres:// URL without escaping.
random_password() {
  local raw=""
  while [[ ${#raw} -lt 32 ]]; do
    raw+="$(openssl rand -base64 48)"
    raw="${raw//[^A-Za-z0-9]/}"
  done
  printf '%s' "${raw:0:32}"
}

fill() {
  local name="$1" value="$2"
  if [[ -n "$(current_value "$name")" ]]; then
    echo "$name already set (kept)"
  else
    set_value "$name" "$value"
    echo "$name generated"
  fi
}

fill DB_PASSWORD "$(random_password)"
fill TOTP_ENCRYPTION_KEY "$(openssl rand -hex 32)"
fill TURN_AUTH_SECRET "$(openssl rand -hex 32)"

cat <<MSG

Done. Next:
  - edit $env_file: at least PUBLIC_URL, ADMIN_USERNAME, REGISTRATION_MODE
  - back up $secrets_dir and TOTP_ENCRYPTION_KEY somewhere other than the database backups:
    losing TOTP_ENCRYPTION_KEY locks every 2FA user out; losing the JWT keys signs everyone out.
MSG
