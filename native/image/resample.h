// Image resizing that reproduces Pillow 9.4's Image.resize() bit for bit on 8-bit images:
//  * LANCZOS / BILINEAR / BICUBIC / BOX / HAMMING: a port of libImaging/Resample.c
//    (ImagingResample): separable convolution with antialiasing (the filter support grows
//    with the downscale factor), coefficients normalised to 22-bit fixed point, horizontal
//    pass first (only over the source rows the vertical pass reads), then vertical pass.
//  * NEAREST: what Image.resize(size, NEAREST) does, i.e. libImaging/Geometry.c's
//    ImagingScaleAffine (an affine transform sampling the pixel centres).
//  * Same size in and out: a plain copy, as in Pillow.
//
// Channels (1..4) are filtered independently; there is no alpha premultiplication (Pillow
// premultiplies RGBA/LA before resizing, so pass RGB data to get Pillow's RGB results).
// Pure C++, thread-safe, no global mutable state.
#pragma once

#include <cstddef>
#include <cstdint>

#include "image/decoded_image.h"

namespace crossmodal::image {

// Values are Pillow's resampling codes (Image.Resampling.*), as used in HF configs.
enum class Filter : int {
  kNearest = 0,
  kLanczos = 1,
  kBilinear = 2,
  kBicubic = 3,
  kBox = 4,
  kHamming = 5,
};

// Maps a Pillow resampling code (0..5) to a Filter. Returns false for anything else.
bool FilterFromPillowCode(int code, Filter* out);
const char* FilterName(Filter filter);

// Resizes src (src_w x src_h, `channels` interleaved bytes per pixel, no row padding) to
// dst (dst_w x dst_h, same layout). Throws crossmodal::Error(ERR_INVALID_ARGUMENT) on bad
// arguments (null pointers, non-positive sizes, channels outside 1..4).
void Resample(const uint8_t* src, int src_w, int src_h, int channels, uint8_t* dst, int dst_w, int dst_h,
              Filter filter);

DecodedImage Resample(const DecodedImage& src, int dst_w, int dst_h, Filter filter);

// Computes only the window [win_x, win_x + win_w) x [win_y, win_y + win_h) of the
// dst_w x dst_h resize of src, writing win_h rows of win_w * channels bytes, `dst_stride`
// bytes apart. The result is bit-identical to Resample() followed by a crop, but only the
// needed output columns/rows (and the source rows they depend on) are computed. The window
// must lie inside dst_w x dst_h and be non-empty.
void ResampleWindow(const uint8_t* src, int src_w, int src_h, int channels, int dst_w, int dst_h, int win_x, int win_y,
                    int win_w, int win_h, Filter filter, uint8_t* dst, size_t dst_stride);

}  // namespace crossmodal::image
