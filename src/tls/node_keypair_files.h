// NodeKeypairFiles: how a node replaces its key and certificate chain together, so that DIR/svid.key and
// DIR/svid.pem match at every instant — also when the process is killed between two writes. Each pair is written
// whole into a directory of its own (DIR/keypairs/NAME/, key 0600), then one symlink, DIR/current, is swapped to it
// by rename(2); DIR/svid.key and DIR/svid.pem are fixed symlinks through it (current/svid.key, current/svid.pem),
// so the pair on disk is always the old one or the new one. A directory still in the flat layout (two regular
// files) is first adopted as a pair without changing what it holds. It never writes a key anywhere but DIR, never
// deletes the pair `current` points to, and never reads the key.
#pragma once

#include <string>
#include <string_view>

namespace tollway::tls {

// Makes `key_pem` and `chain_pem` the node's pair in `dir` (created if missing) and removes the pairs no longer
// current. false with `error` when a step fails: the pair on disk is then still the previous one (or none).
bool install_node_keypair(const std::string& dir, std::string_view key_pem, std::string_view chain_pem,
                          std::string& error);

}  // namespace tollway::tls
