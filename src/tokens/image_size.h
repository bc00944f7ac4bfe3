// Pixel size of an image from the first bytes of its file (PNG, GIF, JPEG, WebP), for the prompt estimator's
// image token rules. Reads headers only, never decodes pixels, never reads past the given bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tollway::tokens {

struct ImageSize {
  unsigned width;
  unsigned height;
};

std::optional<ImageSize> image_size(std::string_view file_bytes);

// Pixel size of a `data:image/...;base64,` URL, decoding only as much base64 as the header needs.
std::optional<ImageSize> data_url_image_size(std::string_view url);

}  // namespace tollway::tokens
