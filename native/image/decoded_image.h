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
  // The image's size before JPEG DCT-domain downscaling (see DecodeOptions::target_size); 0 when
  // it was decoded at full size. Preprocessing computes its geometry from this size.
  int full_width = 0;
  int full_height = 0;

  int LogicalWidth() const { return full_width > 0 ? full_width : width; }
  int LogicalHeight() const { return full_height > 0 ? full_height : height; }
};

}  // namespace crossmodal::image
