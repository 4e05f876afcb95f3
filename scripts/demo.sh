#!/bin/sh
# `make demo`: a service tree in ./demo, no root needed. Two example
# services (clock, logged through multilog; sleeper, plain), run by svscan
# until Ctrl-C, which stops svscan and every service cleanly.
# DEMO_DIR=/some/dir puts the tree elsewhere.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=$ROOT/bin
DEMO=${DEMO_DIR:-$ROOT/demo}
NODE=$(command -v node)
if [ ! -x "$BIN/svscan" ]; then
  echo "demo: $BIN/svscan is missing: run \`make demo\` (it builds first)" >&2
  exit 1
fi
PATH=$BIN:$PATH
export PATH

SCAN=$DEMO/service
SERVICES=$DEMO/services

# what a previous demo may have left (a killed terminal): stop it first
if [ -d "$SERVICES" ]; then
  for d in "$SERVICES"/*/log "$SERVICES"/*; do
    if svok "$d" 2>/dev/null; then svc -dx "$d"; fi
  done
fi
rm -rf "$DEMO"
mkdir -p "$SCAN" "$SERVICES"

# clock: a line every 2 seconds, environment from ./env, logged by multilog
mkdir -p "$SERVICES/clock/env" "$SERVICES/clock/log"
echo tick > "$SERVICES/clock/env/MESSAGE"
cat > "$SERVICES/clock/run" <<EOF
#!/bin/sh
exec 2>&1
exec envdir ./env '$NODE' -e 'setInterval(() => console.log(process.env.MESSAGE, new Date().toISOString()), 2000)'
EOF
cat > "$SERVICES/clock/log/run" <<'EOF'
#!/bin/sh
exec multilog t s100000 n5 ./main
EOF

# sleeper: does nothing, to try svc -d / -u / -t on
mkdir -p "$SERVICES/sleeper"
cat > "$SERVICES/sleeper/run" <<'EOF'
#!/bin/sh
exec softlimit -o 64 sleep 2147483647
EOF
chmod +x "$SERVICES/clock/run" "$SERVICES/clock/log/run" "$SERVICES/sleeper/run"

# services are built outside the scanned directory, then linked into it
ln -s "$SERVICES/clock" "$SCAN/clock"
ln -s "$SERVICES/sleeper" "$SCAN/sleeper"

cat <<EOF
demo: svscan is running the services in $SCAN (Ctrl-C stops everything).
In a second terminal:

  export PATH=$BIN:\$PATH
  cd $DEMO
  svstat service/* service/clock/log      # state, pid, seconds
  tai64nlocal < service/clock/log/main/current
  svc -d service/sleeper                  # stop it (it stays down)
  svc -u service/sleeper                  # start it again
  svc -t service/clock                    # send TERM: supervise restarts it
  cp -r services/sleeper services/second && ln -s ../services/second service/second
                                          # a new service: started within a second

  # or by name, with svctl (it builds the directory, links it, waits until up)
  export SVCTL_SCANDIR=$SCAN SVCTL_SERVICES=$SERVICES
  svctl add hello -- sh -c 'while :; do echo hello; sleep 3; done'
  svctl status
  svctl logs -f hello                     # Ctrl-C to stop following
  svctl restart hello
  svctl rm --purge hello

EOF

# svscan in a session of its own: Ctrl-C reaches this script only, which
# then asks svscan (SIGTERM) to bring every service down, logs last.
pgrphack svscan "$SCAN" &
SVSCAN=$!
stopped=
stop() {
  trap '' INT TERM
  if [ -z "$stopped" ]; then
    stopped=1
    echo
    echo "demo: stopping svscan and the services..."
    kill -TERM "$SVSCAN" 2>/dev/null || :
  fi
}
trap stop INT TERM
while kill -0 "$SVSCAN" 2>/dev/null; do
  wait "$SVSCAN" || :
done

# svscan is gone (stopped, or it died): nothing may be left running
left=
for d in "$SERVICES"/*/log "$SERVICES"/*; do
  if svok "$d" 2>/dev/null; then
    svc -dx "$d"
    left="$left $d"
  fi
done
if [ -n "$left" ]; then
  echo "demo: told the supervise still running to stop:$left" >&2
  exit 1
fi
echo "demo: stopped; nothing left running."
