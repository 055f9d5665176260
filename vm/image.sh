#!/usr/bin/env bash
# image.sh: the guest image and the local package repository of `npm run vm`, cached by a key of
# their inputs. Run by vm/image.ts as root:
#
#   image.sh <work dir> "<gate packages>" "<engine packages>"
#
# - <work>/image/base.raw (ext4, Debian 12, systemd, cloud-init, openssh-server, cloud kernel, guest
#   agent), <work>/image/vmlinuz and initrd.img for a direct kernel boot;
# - <work>/image/repo.iso: a flat apt repository (label YQREPO) of exactly what cloud-init's
#   `packages:` pulls in on top of the image, Recommends on as cloud-init's apt-get has them.
#
# The image is shaped like an OCI platform image and nothing more: the default user is `ubuntu`
# (passwordless sudo, as cloud-init gives the default user), iptables-persistent holds a REJECT
# baseline in INPUT, DHCP by systemd-networkd. Its only apt source is the local repository: the guests
# have no route out. Every other apt source is derived from this machine's own
# /etc/apt/sources.list.d/debian.sources; no archive host name is written anywhere.
set -euo pipefail

work=${1:?work dir}
pkgs_gate=${2:?gate packages}
pkgs_engine=${3:?engine packages}
out="${work}/image"
logs="${work}/logs"
readonly include=systemd,systemd-sysv,udev,dbus,cloud-init,openssh-server,linux-image-cloud-amd64,initramfs-tools,qemu-guest-agent,sudo,cloud-guest-utils,e2fsprogs,iproute2,eatmydata
readonly image_size=3G
readonly host_sources=/etc/apt/sources.list.d/debian.sources

log() { printf '[vm %(%H:%M:%S)T] image: %s\n' -1 "$*" >&2; }
[[ $(id -u) -eq 0 ]] || { log "needs root (mmdebstrap --mode=root)"; exit 1; }
[[ -f ${host_sources} ]] || { log "no ${host_sources}: cannot derive apt sources"; exit 1; }
mkdir -p "${out}" "${logs}"
build=$(mktemp -d "${work}/.image-build.XXXXXX")
trap 'rm -rf "${build}"' EXIT
cp "${host_sources}" "${build}/main.sources"
# bookworm-backports as .ci/install-system-deps.sh derives it: the first stanza, another suite.
awk 'BEGIN { RS = ""; ORS = "\n" } NR == 1 { print; exit }' "${host_sources}" |
  sed -E 's/^Suites:.*/Suites: bookworm-backports/' >"${build}/backports.sources"

key=$({
  cat "$0"
  echo "${include} ${image_size}"
  echo "gate: ${pkgs_gate}"
  echo "engine: ${pkgs_engine}"
  cat "${build}/main.sources"
} | sha256sum | cut -c1-16)
if [[ -f ${out}/base.raw && -f ${out}/repo.iso && $(cat "${out}/key" 2>/dev/null) == "${key}" ]]; then
  log "cached (key ${key})"
  exit 0
fi
start=${SECONDS}
rm -f "${out}/key"

cat >"${build}/hook.sh" <<'EOF_HOOK'
#!/usr/bin/env bash
# mmdebstrap --customize-hook, on the host; $1 = the finished rootfs.
set -euo pipefail
root=$1
in_root() { chroot "${root}" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
apt_in_root() { in_root apt-get -o APT::Install-Recommends=true "$@"; }
cp "${BUILD}/backports.sources" "${root}/etc/apt/sources.list.d/zz-backports.sources"
in_root apt-get update -qq
# What cloud-init's plain `apt-get install <packages>` pulls in on top of this image: the local repo.
in_root apt-get clean
# shellcheck disable=SC2086 # word lists
apt_in_root install --download-only -y -qq ${PKGS_GATE} ${PKGS_ENGINE} >"${LOGS}/image-download.log" 2>&1
mkdir -p "${BUILD}/repo/debs"
cp "${root}"/var/cache/apt/archives/*.deb "${BUILD}/repo/debs/"
in_root apt-get clean
# As OCI's platform images: iptables-persistent with a REJECT baseline in INPUT (modelled on their
# /etc/iptables/rules.v4, without the InstanceServices chain), DHCP by systemd-networkd.
printf '%s\n' 'iptables-persistent iptables-persistent/autosave_v4 boolean false' \
  'iptables-persistent iptables-persistent/autosave_v6 boolean false' | in_root debconf-set-selections
apt_in_root install -y -qq iptables netfilter-persistent iptables-persistent >/dev/null
in_root apt-get purge -y -qq ifupdown >/dev/null
in_root systemctl enable systemd-networkd.service systemd-networkd-wait-online.service >/dev/null 2>&1
cat >"${root}/etc/iptables/rules.v4" <<'EOS'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p udp --sport 123 -j ACCEPT
-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -j REJECT --reject-with icmp-host-prohibited
COMMIT
EOS
printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' >"${root}/etc/iptables/rules.v6"
# apt in the guest: the local repository only.
rm -f "${root}/etc/apt/sources.list" "${root}"/etc/apt/sources.list.d/*
printf 'Types: deb\nURIs: file:/srv/localrepo\nSuites: ./\nTrusted: yes\n' >"${root}/etc/apt/sources.list.d/localrepo.sources"
rm -rf "${root}"/var/lib/apt/lists/*
mkdir -p "${root}/srv/localrepo"
cat >"${root}/etc/fstab" <<'EOS'
/dev/vda / ext4 rw,discard,errors=remount-ro 0 1
LABEL=YQREPO /srv/localrepo iso9660 ro,nofail,x-systemd.device-timeout=300s 0 0
EOS
# The seed is a NoCloud disk: never probe other clouds. The default user is `ubuntu`, as on the
# Ubuntu images the stack's commands log in to.
cat >"${root}/etc/cloud/cloud.cfg.d/90-vm.cfg" <<'EOS'
datasource_list: [NoCloud, None]
system_info:
  default_user:
    name: ubuntu
    lock_passwd: true
    gecos: Ubuntu
    groups: [adm, sudo]
    sudo: ["ALL=(ALL) NOPASSWD:ALL"]
    shell: /bin/bash
EOS
echo 'LANG=C.UTF-8' >"${root}/etc/default/locale"
echo 'vm' >"${root}/etc/hostname"
: >"${root}/etc/machine-id"
rm -f "${root}/var/lib/dbus/machine-id" "${root}"/etc/ssh/ssh_host_*
rm -f "${root}/var/lib/man-db/auto-update" # speed only: no man-db index rebuild per install
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1 || true
in_root dpkg-query -W -f '${Package} ${Version}\n' >"${BUILD}/base.manifest"
cp "${root}"/boot/vmlinuz-* "${BUILD}/vmlinuz"
cp "${root}"/boot/initrd.img-* "${BUILD}/initrd.img"
EOF_HOOK
chmod +x "${build}/hook.sh"

log "mmdebstrap bookworm (about 1-2 min; log ${logs}/mmdebstrap.log)"
BUILD=${build} LOGS=${logs} PKGS_GATE=${pkgs_gate} PKGS_ENGINE=${pkgs_engine} \
  mmdebstrap --mode=root --variant=important --components=main --include="${include}" \
  --customize-hook="${build}/hook.sh \"\$1\"" \
  bookworm "${build}/rootfs" "${build}/main.sources" >"${logs}/mmdebstrap.log" 2>&1 || {
  log "mmdebstrap failed: see ${logs}/mmdebstrap.log"
  exit 1
}
log "rootfs done after $((SECONDS - start))s; ext4 image"
truncate -s "${image_size}" "${build}/base.raw"
mkfs.ext4 -q -L yqroot -d "${build}/rootfs" "${build}/base.raw"
(cd "${build}/repo" && apt-ftparchive packages debs >Packages 2>/dev/null && gzip -9kf Packages &&
  apt-ftparchive release . >"${build}/Release.tmp")
mv "${build}/Release.tmp" "${build}/repo/Release"
genisoimage -quiet -V YQREPO -R -J -o "${build}/repo.iso" "${build}/repo"
mv -f "${build}/base.raw" "${build}/repo.iso" "${build}/vmlinuz" "${build}/initrd.img" "${build}/base.manifest" "${out}/"
echo "${key}" >"${out}/key"
log "built in $((SECONDS - start))s (key ${key}): $(grep -c '^Package:' "${build}/repo/Packages") packages in the local repository"
