#!/usr/bin/env bash
# Installs the rayts systemd unit for a head or a worker node. See docs/operations.md.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: install-systemd.sh head|worker [--prefix DIR] [--dry-run]
       install-systemd.sh --help

Installs the rayts-head or rayts-worker systemd unit on this host:
  - creates the system user and group `rayts` if missing
    (useradd --system --no-create-home --shell /usr/sbin/nologin)
  - creates /etc/rayts (0750 root:rayts)
  - copies systemd/rayts.env.example to /etc/rayts/rayts.env (0640 root:rayts) unless it exists
  - installs the unit into /etc/systemd/system and docs/operations.md into /usr/share/doc/rayts
  - installs systemd/rayts.tmpfiles.conf as /etc/tmpfiles.d/rayts.conf (the machine-wide
    cluster record /tmp/rayts-clusters, owned by root, mode 1777) and creates it when systemd runs
  - runs `systemctl daemon-reload` when systemd is running (PID 1)
  - prints the next steps. It never enables or starts the unit.

Options:
  --prefix DIR  install under DIR instead of / (for images and staging). The rayts user is not
                created, ownership is not changed and systemctl is not run: do that on the host
                that boots the image.
  --dry-run     print what would be done, change nothing (needs no root)
  -h, --help    show this help

Exit codes: 0 ok, 1 failure, 2 usage.
EOF
}

die_usage() {
  echo "install-systemd.sh: $*" >&2
  echo "Try 'install-systemd.sh --help'." >&2
  exit 2
}

die() {
  echo "install-systemd.sh: $*" >&2
  exit 1
}

kind=""
prefix="/"
dry_run=0

while [ "$#" -gt 0 ]; do
  case "$1" in
    head | worker)
      [ -z "$kind" ] || die_usage "node kind given twice ('$kind' and '$1')"
      kind="$1"
      ;;
    --prefix)
      [ "$#" -ge 2 ] || die_usage "--prefix needs a directory"
      prefix="$2"
      shift
      ;;
    --prefix=*)
      prefix="${1#--prefix=}"
      ;;
    --dry-run)
      dry_run=1
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      die_usage "unknown argument '$1'"
      ;;
  esac
  shift
done

[ -n "$kind" ] || die_usage "say which unit to install: head or worker"
[ -n "$prefix" ] || die_usage "--prefix needs a directory"
case "$prefix" in
  /*) ;;
  *) die_usage "--prefix must be an absolute path, got '$prefix'" ;;
esac
# Normalise: no trailing slash, so "$root/etc" never reads "//etc"; "/" becomes "".
root="${prefix%/}"
while [ "${root%/}" != "$root" ]; do root="${root%/}"; done
on_host=1
[ -z "$root" ] || on_host=0

src_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
unit_name="rayts-${kind}.service"
unit_src="$src_dir/systemd/$unit_name"
env_src="$src_dir/systemd/rayts.env.example"
tmpfiles_src="$src_dir/systemd/rayts.tmpfiles.conf"
doc_src="$src_dir/docs/operations.md"
for f in "$unit_src" "$env_src" "$tmpfiles_src"; do
  [ -f "$f" ] || die "missing $f (run this script from a rayts checkout)"
done

etc_dir="$root/etc/rayts"
env_dst="$etc_dir/rayts.env"
unit_dir="$root/etc/systemd/system"
unit_dst="$unit_dir/$unit_name"
doc_dir="$root/usr/share/doc/rayts"
tmpfiles_dir="$root/etc/tmpfiles.d"

if [ "$dry_run" -eq 0 ] && [ "$on_host" -eq 1 ] && [ "$(id -u)" -ne 0 ]; then
  die "installing into / needs root: run it with sudo (or try --dry-run)"
fi

# run CMD ARGS...: print the command; run it unless --dry-run.
run() {
  if [ "$dry_run" -eq 1 ]; then
    printf 'would run:'
  else
    printf 'running:'
  fi
  printf ' %q' "$@"
  printf '\n'
  if [ "$dry_run" -eq 0 ]; then
    "$@"
  fi
}

note() {
  printf '%s\n' "$*"
}

# Ownership flags for install(1): root:rayts on the host, unchanged under --prefix.
own_root_rayts=()
if [ "$on_host" -eq 1 ]; then
  own_root_rayts=(-o root -g rayts)
fi

[ "$dry_run" -eq 0 ] || note "dry run: nothing is changed"

# 1. The rayts system user and group.
if [ "$on_host" -eq 1 ]; then
  if getent group rayts >/dev/null; then
    note "group rayts exists"
  else
    run groupadd --system rayts
  fi
  if getent passwd rayts >/dev/null; then
    note "user rayts exists"
  else
    run useradd --system --no-create-home --home-dir /var/lib/rayts \
      --shell /usr/sbin/nologin --gid rayts --comment "rayts cluster node" rayts
  fi
else
  note "--prefix $prefix: not creating the rayts user/group (create them on the target host)"
fi

# 2. /etc/rayts and the environment file.
run install -d -m 0750 "${own_root_rayts[@]}" "$etc_dir"
if [ -e "$env_dst" ]; then
  note "keeping the existing $env_dst"
else
  run install -m 0640 "${own_root_rayts[@]}" "$env_src" "$env_dst"
fi

# 3. The unit and the operations doc (the unit's Documentation=).
run install -d -m 0755 "$unit_dir"
run install -m 0644 "$unit_src" "$unit_dst"
if [ -f "$doc_src" ]; then
  run install -d -m 0755 "$doc_dir"
  run install -m 0644 "$doc_src" "$doc_dir/operations.md"
fi

# 4. The machine-wide cluster record (/tmp/rayts-clusters, root's, sticky), at boot and now.
run install -d -m 0755 "$tmpfiles_dir"
run install -m 0644 "$tmpfiles_src" "$tmpfiles_dir/rayts.conf"

# 5. Tell systemd, when it is the running init.
if [ "$on_host" -eq 1 ] && [ -d /run/systemd/system ]; then
  run systemd-tmpfiles --create "$tmpfiles_dir/rayts.conf"
  run systemctl daemon-reload
elif [ "$on_host" -eq 1 ]; then
  note "systemd is not running as PID 1 here: skipping 'systemctl daemon-reload'"
else
  note "--prefix $prefix: skipping 'systemctl daemon-reload'"
fi

# 5. Next steps.
service="rayts-$kind"
if [ "$kind" = worker ]; then
  env_hint="RAYTS_HEAD_ADDRESS (the head's HOST:6379)"
else
  env_hint="RAYTS_NODE_IP (this host's cluster address) and RAYTS_PORT (6379)"
fi
cat <<EOF

Next steps:
  1. Edit $env_dst: set $env_hint,
     and extra flags in RAYTS_START_ARGS.
EOF
if [ "$kind" = worker ]; then
  cat <<EOF
  2. Copy the head's cluster token. On the head:
       (umask 077; sudo -u rayts rayts get-auth-token --temp-dir=/var/lib/rayts > token)
     move the file here over a secure channel (scp), then:
       sudo install -m 0600 -o rayts -g rayts token /etc/rayts/token && shred -u token
     (the token is read with --token-file; never put it on a command line)
  3. Open this raylet's --node-manager-port (see RAYTS_START_ARGS) to the cluster subnet, and its
     --metrics-export-port to the Prometheus host.
  4. sudo systemctl enable --now $service
  5. journalctl -u $service -f      (and: rayts status on the head)
EOF
else
  cat <<EOF
  2. Open the GCS port (RAYTS_PORT, 6379/tcp) and the raylet's --node-manager-port to the
     cluster subnet only, the raylet's --metrics-export-port to the Prometheus host; the
     dashboard (8265) stays on 127.0.0.1 (use an SSH tunnel).
  3. sudo systemctl enable --now $service
  4. journalctl -u $service -f      (and: sudo -u rayts rayts status)
  5. For the workers, print the token:
       (umask 077; sudo -u rayts rayts get-auth-token --temp-dir=/var/lib/rayts > token)
     and install it on each worker as /etc/rayts/token (mode 0600, owner rayts).
EOF
fi
