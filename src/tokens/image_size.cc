#include "tokens/image_size.h"

#include <cstdint>

namespace tollway::tokens {
namespace {

unsigned be16(const unsigned char* p) { return (unsigned{p[0]} << 8) | p[1]; }
unsigned le16(const unsigned char* p) { return unsigned{p[0]} | (unsigned{p[1]} << 8); }
std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::optional<ImageSize> jpeg_size(const unsigned char* p, std::size_t n) {
  std::size_t i = 2;
  while (i + 9 < n) {
    if (p[i] != 0xFF) return std::nullopt;
    const unsigned char marker = p[i + 1];
    if (marker == 0xFF) { ++i; continue; }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { i += 2; continue; }
    const unsigned len = be16(p + i + 2);
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) return ImageSize{be16(p + i + 7), be16(p + i + 5)};
    if (len < 2) return std::nullopt;
    i += 2 + len;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ImageSize> image_size(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  if (n >= 24 && bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n") return ImageSize{be32(p + 16), be32(p + 20)};
  if (n >= 10 && (bytes.substr(0, 6) == "GIF87a" || bytes.substr(0, 6) == "GIF89a")) return ImageSize{le16(p + 6), le16(p + 8)};
  if (n >= 4 && p[0] == 0xFF && p[1] == 0xD8) return jpeg_size(p, n);
  if (n >= 30 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") {
    const std::string_view chunk = bytes.substr(12, 4);
    if (chunk == "VP8 ") return ImageSize{le16(p + 26) & 0x3FFF, le16(p + 28) & 0x3FFF};
    if (chunk == "VP8L" && n >= 25) {
      const std::uint32_t b = std::uint32_t{p[21]} | (std::uint32_t{p[22]} << 8) | (std::uint32_t{p[23]} << 16) | (std::uint32_t{p[24]} << 24);
      return ImageSize{(b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1};
    }
    if (chunk == "VP8X")
      return ImageSize{(unsigned{p[24]} | (unsigned{p[25]} << 8) | (unsigned{p[26]} << 16)) + 1,
                       (unsigned{p[27]} | (unsigned{p[28]} << 8) | (unsigned{p[29]} << 16)) + 1};
  }
  return std::nullopt;
}

std::optional<ImageSize> data_url_image_size(std::string_view url) {
  if (url.substr(0, 11) != "data:image/") return std::nullopt;
  const std::size_t comma = url.find(',');
  if (comma == std::string_view::npos || url.substr(0, comma).find(";base64") == std::string_view::npos) return std::nullopt;
  std::string_view b64 = url.substr(comma + 1);
  // Headers we read sit in the first few KB (JPEG SOF can follow EXIF: allow 64 KB).
  if (b64.size() > 87384) b64 = b64.substr(0, 87384);
  std::string bytes;
  bytes.reserve(b64.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : b64) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=') break;
    else continue;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return image_size(bytes);
}

}  // namespace tollway::tokens
