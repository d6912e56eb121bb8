# The server settings of a bench cluster, sourced by the bench scripts:
#   bench_conf PORT SOCKET_DIR PRELOAD >>"$DATA/postgresql.conf"
bench_conf() {
	cat <<CONF
port = $1
listen_addresses = ''
unix_socket_directories = '$2'
max_connections = 200
shared_buffers = 512MB
synchronous_commit = on
shared_preload_libraries = '$3'
CONF
}
