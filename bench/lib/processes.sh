# Helpers of the benchmark scripts that start real processes on 127.0.0.1 (sourced).
#   free_ports N              -> N distinct unused ports, one per line (all held open together, then released)
#   wait_log FILE PATTERN WHAT -> returns once FILE holds PATTERN (15 s at most); else prints FILE's last lines
#                                 and exits 1 saying WHAT did not come up
free_ports() {
  node -e 'const net=require("net");const n=+process.argv[1];const ss=[];let k=0;
    for(let i=0;i<n;i++){const s=net.createServer();ss.push(s);s.listen(0,"127.0.0.1",()=>{if(++k===n){
    for(const x of ss)console.log(x.address().port);for(const x of ss)x.close();}});}' "$1"
}
wait_log() {
  for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "run.sh: $3 did not come up" >&2
  tail -20 "$1" >&2 || true
  exit 1
}
