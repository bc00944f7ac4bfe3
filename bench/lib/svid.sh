# A throwaway SPIFFE PKI for the benchmark scripts (sourced), made with openssl in DIR:
#   make_bench_ca DIR CN            -> DIR/ca.pem, DIR/ca.key: a P-256 root
#   issue_svid DIR NAME SPIFFE_ID   -> DIR/NAME.pem, DIR/NAME.key: an X.509-SVID (one URI SAN, not a CA, digital
#                                      signature, server and client auth) signed by DIR's CA
make_bench_ca() {
  (cd "$1" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
    -days 2 -subj "/CN=$2" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    2>/dev/null)
}
issue_svid() {
  printf 'subjectAltName=URI:%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' "$3" \
    > "$1/$2.cnf"
  printf 'extendedKeyUsage=serverAuth,clientAuth\n' >> "$1/$2.cnf"
  (cd "$1" && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$2.key" -out "$2.csr" \
    -subj /O=SPIFFE 2>/dev/null &&
    openssl x509 -req -in "$2.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$2.pem" -days 2 -extfile "$2.cnf" \
    2>/dev/null)
}
