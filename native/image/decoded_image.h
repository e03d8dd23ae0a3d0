// A decoded 8-bit image: interleaved channels, row-major, no padding between rows.
#pragma once

#include <cstdint>
#include <vector>

namespace crossmodal::image {

struct DecodedImage {
  int width = 0;
  int height = 0;
  int channels = 0;             // 3 (RGB) for everything DecodeToRgb / RgbFromPixels return
  std::vector<uint8_t> pixels;  // width * height * channels bytes
};

}  // namespace crossmodal::image
