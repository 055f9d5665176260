# converge.sh's host firewall rules. A rule is "proto port source name"; the rules file
# (/etc/yquant/firewall.rules) lists them one a line, and each is in force in INPUT as an ACCEPT
# with the comment yquant-<name>, above the image's REJECT.

# The host firewall rules as "proto port source name", sorted: the ones a rules file lists, and the
# yquant ones in force in INPUT (`iptables -S` leaves out a 0.0.0.0/0 source).
fw_wanted() { awk '$1 != "" && $1 !~ /^#/ { print $1, $2, $3, $4 }' "$1" | sort -u; }
fw_live() {
  iptables -S INPUT | awk '/--comment "?yquant-/ {
    proto = ""; port = ""; src = "0.0.0.0/0"; name = ""
    for (i = 1; i < NF; i++) {
      if ($i == "-p") proto = $(i + 1)
      if ($i == "-s") src = $(i + 1)
      if ($i == "--dport") port = $(i + 1)
      if ($i == "--comment") { name = $(i + 1); gsub(/"/, "", name); sub(/^yquant-/, "", name) }
    }
    print proto, port, src, name
  }' | sort -u
}
# fw_spec sets spec to the iptables arguments of one rule.
fw_spec() { spec=(-p "$1" -s "$3" -m state --state NEW -m "$1" --dport "$2" -m comment --comment "yquant-$4" -j ACCEPT); }

# Brings the rules in force to what the rules file $1 lists: the new rules first, so admin
# access is never lost, then every yquant rule in force that the file no longer lists.
apply_firewall_rules() {
  local wanted proto port source name position
  wanted=$(fw_wanted "$1")
  while read -r proto port source name; do # new rules first: admin access is never lost
    [[ -z ${proto} ]] && continue
    fw_spec "${proto}" "${port}" "${source}" "${name}"
    iptables -C INPUT "${spec[@]}" 2>/dev/null && continue
    position=$(iptables -L INPUT --line-numbers -n | awk '$2 == "REJECT" { print $1; exit }')
    if [[ -n ${position} ]]; then iptables -I INPUT "${position}" "${spec[@]}"; else iptables -A INPUT "${spec[@]}"; fi
  done <<<"${wanted}"
  step firewall-added
  # Stale: every yquant rule in force that the file no longer lists (not a diff of two files).
  while read -r proto port source name; do
    [[ -z ${proto} ]] && continue
    grep -qxF -- "${proto} ${port} ${source} ${name}" <<<"${wanted}" && continue
    fw_spec "${proto}" "${port}" "${source}" "${name}"
    while iptables -D INPUT "${spec[@]}" 2>/dev/null; do :; done
  done < <(fw_live)
  step firewall-deleted
  netfilter-persistent save >/dev/null
  log "firewall: rules converged and saved"
}
