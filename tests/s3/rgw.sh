#!/usr/bin/env bash
# A single-node Ceph cluster with its RADOS Gateway (S3) on loopback, for the tests:
#   tests/s3/rgw.sh start [DIR]   start it (DIR defaults to /tmp/pacta-rgw), print the S3 settings
#   tests/s3/rgw.sh stop  [DIR]   stop it and delete DIR
# One monitor, one OSD on the in-memory `memstore` object store (nothing on disk, gone at stop),
# no cephx (auth none: loopback only) and one radosgw on 127.0.0.1:7480 with a fixed test user.
# Needs Debian's ceph-mon, ceph-osd, radosgw and ceph-common (.ci/run installs them).
set -euo pipefail

ACTION=${1:-start}
DIR=${2:-/tmp/pacta-rgw}
PORT=${PACTA_RGW_PORT:-7480}
MON_PORT=${PACTA_RGW_MON_PORT:-6789}
ACCESS_KEY=${PACTA_RGW_ACCESS_KEY:-PACTATESTACCESSKEY01}
SECRET_KEY=${PACTA_RGW_SECRET_KEY:-pacta-test-secret-key-not-a-secret-000}
CONF=$DIR/ceph.conf

stop() {
  if [ -d "$DIR/run" ]; then
    for pidfile in "$DIR"/run/*.pid; do
      [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    sleep 1
    for pidfile in "$DIR"/run/*.pid; do
      [ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null || true
    done
  fi
  rm -rf "$DIR"
}

if [ "$ACTION" = stop ]; then
  stop
  exit 0
fi

stop
mkdir -p "$DIR"/{run,log,mon-a,osd-0,rgw}
# A step that fails says why on stderr (the daemons' own messages go to setup.err).
trap 'echo "rgw.sh: line $LINENO failed: $BASH_COMMAND" >&2; tail -n 5 "$DIR/log/setup.err" >&2 2>/dev/null || true' ERR
FSID=$(cat /proc/sys/kernel/random/uuid)
cat > "$CONF" <<CONFEOF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms bind ipv4 = true
ms bind ipv6 = false
ms_mon_client_mode = crc
ms_client_mode = crc
ms_cluster_mode = crc
ms_service_mode = crc
ms_mon_cluster_mode = crc
ms_mon_service_mode = crc
run dir = $DIR/run
pid file = $DIR/run/\$name.pid
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
keyring = /dev/null
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = ${PACTA_RGW_MEMSTORE_BYTES:-2147483648}

[mon.a]
mon data = $DIR/mon-a

[osd.0]
osd data = $DIR/osd-0

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $DIR/rgw
rgw dns name = localhost
CONFEOF

monmaptool --create --addv a "[v1:127.0.0.1:$MON_PORT]" --fsid "$FSID" "$DIR/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" 2>>"$DIR/log/setup.err"
ceph-mon -c "$CONF" -i a 2>>"$DIR/log/setup.err"
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
ceph -c "$CONF" osd new "$OSD_UUID" 0 >/dev/null
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" 2>>"$DIR/log/setup.err"
# Seen about once in ten starts: the OSD's first boot is refused with "wrong fsid" (the osdmap that
# `osd new` wrote not yet the one it is checked against) and exits; a second boot a moment later
# comes up.
for attempt in 1 2 3; do
  if ceph-osd -c "$CONF" -i 0 2>>"$DIR/log/setup.err"; then break; fi
  [ "$attempt" = 3 ] && { echo "ceph-osd did not start; logs in $DIR/log" >&2; tail -n 5 "$DIR/log/setup.err" >&2; exit 1; }
  sleep 2
done
radosgw -c "$CONF" -n client.rgw.a 2>>"$DIR/log/setup.err"

# Up when the gateway answers and the user exists.
for _ in $(seq 1 120); do
  if curl -fs -o /dev/null "http://127.0.0.1:$PORT/"; then break; fi
  sleep 0.5
done
curl -fs -o /dev/null "http://127.0.0.1:$PORT/" || { echo "radosgw did not answer on 127.0.0.1:$PORT; logs in $DIR/log" >&2; exit 1; }
radosgw-admin -c "$CONF" user create --uid=pacta-test --display-name="PACTA tests" \
  --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
echo "S3 endpoint http://127.0.0.1:$PORT (access key $ACCESS_KEY)"
