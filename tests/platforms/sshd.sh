# tests/platforms/sshd.sh — a test OpenSSH server for the e2e tests of ssh boards (sourced after
# tests/e2e/lib.sh): its own host and user keys, `sshd -D -f CONFIG` as the current user on
# 127.0.0.1, one port per fake board (a board's identity is host and port, so two ports are two
# boards).
#   sshd_keys DIR          host and user keys in DIR/keys (authorized_keys = the user key)
#   free_port              a port nothing listens on
#   start_sshd DIR PORT... sshd on every PORT; waits until each accepts connections; SSHD_PID
#   stop_sshd              kills it (also safe when it is not running)
#   known_hosts DIR PORT...  DIR/keys/known_hosts with the host key for every PORT
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
SSHD_PID=

sshd_keys() {
  mkdir -p "$1/keys"
  ssh-keygen -q -t ed25519 -N '' -f "$1/keys/host" -C host < /dev/null || return 1
  ssh-keygen -q -t ed25519 -N '' -f "$1/keys/user" -C user < /dev/null || return 1
  cp "$1/keys/user.pub" "$1/keys/authorized_keys"
  mkdir -p /run/sshd 2>/dev/null   # privilege separation directory (sshd insists on it when root)
  return 0
}

free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}

start_sshd() {
  local dir=$1 p; shift
  { for p in "$@"; do echo "Port $p"; done
    cat <<CONF
ListenAddress 127.0.0.1
HostKey $dir/keys/host
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/keys/authorized_keys
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
MaxStartups 100
MaxSessions 100
LogLevel ERROR
CONF
  } > "$dir/sshd_config"
  "$SSHD" -D -e -f "$dir/sshd_config" 2>> "$dir/sshd.log" &
  SSHD_PID=$!
  for p in "$@"; do
    local up=0
    for _ in $(seq 100); do
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { up=1; break; }
      kill -0 "$SSHD_PID" 2>/dev/null || return 1
      sleep 0.05
    done
    [ $up = 1 ] || return 1
  done
  return 0
}

stop_sshd() {
  [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
  SSHD_PID=
}

known_hosts() {
  local dir=$1 p; shift
  : > "$dir/keys/known_hosts"
  for p in "$@"; do echo "[127.0.0.1]:$p $(cut -d' ' -f1,2 "$dir/keys/host.pub")" >> "$dir/keys/known_hosts"; done
}
