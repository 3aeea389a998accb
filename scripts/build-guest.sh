#!/usr/bin/env bash
# Builds the tiny Linux guest for the agent's end-to-end test (docs/agent.md, "Tiny guest"):
# Debian's kernel and busybox-static, downloaded with `apt-get download` and unpacked with
# `dpkg-deb -x` (never installed), and a busybox initramfs with the virtio modules.
#
#   scripts/build-guest.sh [OUT]      (default OUT: test/.guest)
#
# Output: OUT/vmlinuz, OUT/initrd.img (gzip'd newc cpio). Idempotent: does nothing if both exist.
#
# The guest's init (in the initramfs) loads virtio_pci + virtio_blk, then works on /dev/vda, which
# it uses as a tar archive (busybox has no mkfs): if the archive holds hello.txt it prints
# "CV-FOUND:<contents>", otherwise it writes hello.txt (contents from the kernel command line
# cv.msg=...) and prints "CV-WROTE". With cv.stay=1 it then prints "CV-TICK n" every second
# (for suspend/resume tests); otherwise it syncs and powers off.
set -euo pipefail
OUT=${1:-"$(cd "$(dirname "$0")/.." && pwd)/test/.guest"}
if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.img" ]; then
  echo "build-guest: $OUT is up to date"
  exit 0
fi
for tool in apt-get apt-cache dpkg-deb cpio gzip; do
  command -v "$tool" >/dev/null || { echo "build-guest: $tool is missing (bash .ci/setup)" >&2; exit 1; }
done
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cv-guest-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# The versioned kernel image package the meta package points at.
KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$KPKG" ] || { echo "build-guest: cannot resolve linux-image-amd64" >&2; exit 1; }
apt-get download -q "$KPKG" busybox-static >/dev/null
mkdir kernel bb
dpkg-deb -x "$KPKG"_*.deb kernel
dpkg-deb -x busybox-static_*.deb bb
KVER=$(ls kernel/lib/modules | head -n1)
MODDIR=kernel/lib/modules/$KVER

# The modules to load, dependencies first (each module's own "depends=" from its .modinfo section;
# no modules.dep is shipped and depmod need not be present), decompressed for busybox insmod.
declare -A SEEN=()
ORDER=()
find "$MODDIR/kernel" -name '*.ko*' > modlist
modpath() { # module name -> path
  awk -v m="$1" '{ n=$0; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n); gsub(/-/, "_", n); if (n == m) { print $0; exit } }' modlist
}
modcat() {
  case "$1" in
    *.ko.xz) xz -dc "$1" ;;
    *.ko.zst) zstd -qdc "$1" ;;
    *.ko.gz) gzip -dc "$1" ;;
    *) cat "$1" ;;
  esac
}
add_mod() {
  local name=${1//-/_} path deps d
  [ -n "${SEEN[$name]:-}" ] && return 0
  SEEN[$name]=1
  path=$(modpath "$name")
  [ -n "$path" ] || return 0 # built into the kernel
  deps=$(modcat "$path" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1 | tr ',' ' ')
  for d in $deps; do add_mod "$d"; done
  ORDER+=("$path")
}
for m in virtio_pci virtio_blk; do add_mod "$m"; done
[ ${#ORDER[@]} -gt 0 ] || echo "build-guest: virtio_pci and virtio_blk are built into the kernel"

ROOT=initramfs
mkdir -p "$ROOT"/{bin,sbin,proc,sys,dev,tmp,mnt,modules}
cp bb/bin/busybox "$ROOT/bin/busybox"
for a in sh mount umount insmod cat echo dd sync tar sleep poweroff mknod ls grep sed; do ln -s busybox "$ROOT/bin/$a"; done
i=0
: > "$ROOT/modules/order"
for path in "${ORDER[@]}"; do
  i=$((i + 1))
  base=$(printf '%02d-%s' "$i" "$(basename "${path%%.ko*}").ko")
  modcat "$path" > "$ROOT/modules/$base"
  echo "$base" >> "$ROOT/modules/order"
done

cat > "$ROOT/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
for m in $(cat /modules/order); do insmod /modules/$m 2>/dev/null; done
MSG=hello
STAY=0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    cv.msg=*) MSG=${arg#cv.msg=} ;;
    cv.stay=1) STAY=1 ;;
  esac
done
n=0
while [ ! -b /dev/vda ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
if [ ! -b /dev/vda ]; then
  echo "CV-ERROR: no /dev/vda"
else
  cd /tmp
  if tar -xf /dev/vda hello.txt 2>/dev/null; then
    echo "CV-FOUND:$(cat hello.txt)"
  else
    echo "$MSG" > hello.txt
    tar -cf /dev/vda hello.txt
    sync
    echo "CV-WROTE"
  fi
fi
if [ "$STAY" = 1 ]; then
  n=0
  while true; do n=$((n + 1)); echo "CV-TICK $n"; sleep 1; done
fi
sync
echo "CV-DONE"
poweroff -f
INIT
chmod 755 "$ROOT/init"

cp kernel/boot/vmlinuz-"$KVER" "$OUT/vmlinuz.tmp"
(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -9) > "$OUT/initrd.img.tmp"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
echo "build-guest: kernel $KVER, modules: ${ORDER[*]##*/} -> $OUT"
