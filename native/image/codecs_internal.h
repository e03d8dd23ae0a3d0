// Internal: per-format decoders used by decode.cc. Not part of the public image API.
#pragma once

#include <cstddef>
#include <cstdint>

#include "image/decode.h"

namespace crossmodal::image::detail {

// Throws ERR_IMAGE_TOO_LARGE if width * height > limits.max_pixels, and ERR_IMAGE_DECODE for
// a zero dimension.
void CheckDimensions(uint64_t width, uint64_t height, const DecodeLimits& limits, const char* format_name);

// options.target_size (with `orientation`, the EXIF orientation that will be applied afterwards)
// selects DCT-domain downscaling; see DecodeOptions.
DecodedImage DecodeJpeg(const uint8_t* data, size_t size, const DecodeLimits& limits, const DecodeOptions& options,
                        int orientation);
// The scale denominator (1, 2, 4 or 8) for a width x height JPEG under `options`.
int JpegScaleDenominator(const DecodeOptions& options, int orientation, uint32_t width, uint32_t height);
DecodedImage DecodePng(const uint8_t* data, size_t size, const DecodeLimits& limits);
DecodedImage DecodeWebp(const uint8_t* data, size_t size, const DecodeLimits& limits);
DecodedImage DecodeGif(const uint8_t* data, size_t size, const DecodeLimits& limits);

// Header-only probes behind ProbeImage: true with the stored size, false when the headers are
// invalid or cut short. Never throw.
bool ProbeJpeg(const uint8_t* data, size_t size, uint64_t* width, uint64_t* height);
bool ProbePng(const uint8_t* data, size_t size, uint64_t* width, uint64_t* height);
bool ProbeWebp(const uint8_t* data, size_t size, uint64_t* width, uint64_t* height);
bool ProbeGif(const uint8_t* data, size_t size, uint64_t* width, uint64_t* height);

}  // namespace crossmodal::image::detail
