#!/usr/bin/env bash
# The Debian package, as a user gets it: built with the Tauri CLI
# (scripts/deb.sh), installed with apt-get (which pulls its dependencies),
# checked for its program, desktop entry and icons, and started the way the
# login item starts it (`--background`): its tray icon must register with
# the desktop's tray host (a real status-notifier-watcher on a private
# session bus, under Xvfb). The headless side is checked too: the CLI
# /usr/bin/postflow, and the systemd unit /usr/lib/systemd/system/postflow.service
# (what `postflow service install --system --print --packaged` prints,
# verified and scored by systemd-analyze, disabled, its user created by the
# postinst). The packaged unit is not started here; tests/service_unit.rs
# starts the unit install writes under systemd as PID 1 in a container.
# The package is removed afterwards.
#
#   scripts/test-deb.sh [--debug]   (test.sh passes --debug: same package,
#                                    debug build, to keep CI within budget)
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(bash scripts/deb.sh "$@" | tail -1)
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
pkg=$(dpkg-deb -f "$deb" Package)
[ "$pkg" = postflow ] || { echo "[deb] FAILED: the package is named $pkg, not postflow" >&2; exit 1; }
echo "[deb] $deb: package $pkg, depends on: $(dpkg-deb -f "$deb" Depends)" >&2
export DEBIAN_FRONTEND=noninteractive
had_user=no
getent passwd postflow >/dev/null && had_user=yes
$SUDO apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
scratch=$(mktemp -d)
cleanup() {
  $SUDO apt-get remove -y -qq "$pkg" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

fail() { echo "[deb] FAILED: $*" >&2; exit 1; }
files=$(dpkg -L "$pkg")
grep -qx /usr/bin/postflow-app <<<"$files" || fail "no /usr/bin/postflow-app in the package"
desktop=$(grep '^/usr/share/applications/.*\.desktop$' <<<"$files" | head -1)
[ -n "$desktop" ] || fail "no desktop entry"
grep -q '^Exec=postflow-app' "$desktop" || fail "the desktop entry does not start postflow-app: $(cat "$desktop")"
grep -qx 'Name=PostFlow' "$desktop" || fail "the desktop entry is not named PostFlow: $(cat "$desktop")"
grep -q '^/usr/share/icons/hicolor/.*/apps/.*\.png$' <<<"$files" || fail "no icons"

# The server side: the CLI and its systemd unit, shipped disabled.
grep -qx /usr/bin/postflow <<<"$files" || fail "no /usr/bin/postflow (the headless CLI) in the package"
/usr/bin/postflow --version >/dev/null || fail "/usr/bin/postflow does not run"
unit=/usr/lib/systemd/system/postflow.service
grep -qx "$unit" <<<"$files" || fail "no $unit in the package"
grep -qx 'ExecStart=/usr/bin/postflow --config /etc/postflow/settings.toml run' "$unit" \
  || fail "the unit does not start /usr/bin/postflow: $(grep ^ExecStart "$unit")"
grep -qx 'User=postflow' "$unit" || fail "the unit does not run as the user postflow"
/usr/bin/postflow service install --system --print --packaged --exec-path /usr/bin/postflow 2>/dev/null \
  | cmp -s - "$unit" || fail "the shipped unit is not what postflow service install prints"
if command -v systemd-analyze >/dev/null; then
  said=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify failed: $said"
  [ -z "$said" ] || fail "systemd-analyze verify: $said"
  score=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1 \
    | sed -n 's/.*Overall exposure level for postflow.service: \([0-9.]*\).*/\1/p')
  awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 2.0) }' \
    || fail "systemd-analyze security: exposure ${score:-unknown}, above 2.0"
  echo "[deb] $unit: verified, exposure $score" >&2
else
  echo "[deb] systemd-analyze is not installed: the unit was not verified" >&2
fi
enabled=$(systemctl is-enabled postflow.service 2>&1 || true)
[ "$enabled" = disabled ] || fail "postflow.service should be disabled after install, is: $enabled"
getent passwd postflow >/dev/null || fail "the postinst did not create the user postflow"
[ "$had_user" = yes ] || echo "[deb] the postinst created the user postflow" >&2
[ "$(stat -c %a /etc/postflow/credentials)" = 700 ] || fail "/etc/postflow/credentials is not 0700"

printf '[ui]\nstart_minimized = true\nstart_at_login = false\n' > "$scratch/settings.toml"
mkdir -p "$scratch/home"
cat > "$scratch/session.sh" <<'SESSION'
set -u
status-notifier-watcher & watcher=$!
sleep 1
env HOME="$SCRATCH/home" XDG_CACHE_HOME="$SCRATCH/cache" POSTFLOW_CONFIG="$SCRATCH/settings.toml" \
  POSTFLOW_DATA_DIR="$SCRATCH/data" POSTFLOW_LOG_DIR="$SCRATCH/logs" NO_COLOR=1 \
  /usr/bin/postflow-app --background > "$SCRATCH/app.log" 2>&1 &
app=$!
ok=0
for _ in $(seq 90); do
  if gdbus call --session --dest org.kde.StatusNotifierWatcher --object-path /StatusNotifierWatcher \
      --method org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierWatcher RegisteredStatusNotifierItems \
      2>/dev/null | grep -q "\['"; then ok=1; break; fi
  sleep 1
done
kill "$app" "$watcher" 2>/dev/null; wait "$app" 2>/dev/null
[ "$ok" = 1 ] || { cat "$SCRATCH/app.log" >&2; exit 1; }
SESSION
SCRATCH="$scratch" xvfb-run -a -s '-screen 0 1280x800x24' dbus-run-session -- bash "$scratch/session.sh" \
  || fail "the installed app did not put its icon in the tray"
grep -q "PostFlow is ready: tray icon set up" "$scratch/logs"/* 2>/dev/null || grep -q "PostFlow is ready" "$scratch/app.log" \
  || fail "the installed app did not say it was ready"
echo "[deb] installed with apt-get, started to the tray, removed: ok" >&2
