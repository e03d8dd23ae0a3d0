// How image inputs are loaded: size limits, EXIF orientation, DCT scaling. Pure C++.
#pragma once

#include <cstdint>

#include "image/decode.h"

namespace crossmodal::image {

struct ImageLoadOptions {
  DecodeLimits limits;
  // Largest encoded input accepted: a file is checked by its size before it is read, a buffer
  // by its length. 0: no limit.
  uint64_t max_file_bytes = 256ull << 20;
  // Apply the EXIF Orientation tag (like Pillow's ImageOps.exif_transpose) before resizing.
  bool exif_orientation = true;
  // Let JPEGs be decoded at 1/2, 1/4 or 1/8 scale (libjpeg-turbo DCT scaling) while the result is
  // still at least twice the resize target; faster, but no longer bit-identical to Pillow.
  bool dct_scaling = false;
};

}  // namespace crossmodal::image
