# The benchmarks' origin: one nginx worker on 127.0.0.1 answering POST /v1/chat/completions with the proxy
# benchmark's canned chat completion (bench/proxy/response.json), keep-alive without limit, no logs.
# Usage (sourced): write_nginx_origin DIR PORT  -> DIR/nginx.conf (DIR gets logs/ and tmp/); start it with
#   nginx -p DIR -c DIR/nginx.conf
write_nginx_origin() {
  local dir=$1 port=$2 response
  response="$(tr -d '\n' < "$(dirname "${BASH_SOURCE[0]}")/../proxy/response.json")"
  mkdir -p "$dir/logs" "$dir/tmp"
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
worker_cpu_affinity auto;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
daemon on;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fcgi; uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:$port reuseport backlog=4096;
    location = /v1/chat/completions {
      default_type application/json;
      add_header x-request-id req_bench_origin;
      return 200 '$response';
    }
    # OTLP/HTTP export of the proxies under test (telemetry on): accepted and dropped.
    location /v1/ {
      default_type application/json;
      return 200 '{}';
    }
  }
}
CONF
}
