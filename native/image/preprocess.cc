#include "image/preprocess.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "image/resample.h"

namespace crossmodal::image {

namespace {

// Python floor division for a possibly negative numerator and a positive divisor.
inline int FloorDiv2(int v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

// lut[c][v] = the final float for channel c and uint8 value v, computed exactly as HF/numpy
// does it: rescale in float64 then cast to float32, normalise in float32.
struct ValueTable {
  float lut[3][256];
};

void BuildTable(const PreprocessConfig& cfg, ValueTable* t) {
  for (int c = 0; c < 3; ++c) {
    const float mean = cfg.image_mean[c];
    const float std = cfg.image_std[c];
    for (int v = 0; v < 256; ++v) {
      float x =
          cfg.do_rescale ? static_cast<float>(static_cast<double>(v) * cfg.rescale_factor) : static_cast<float>(v);
      if (cfg.do_normalize) {
        // Separate statements keep float32 rounding after each step; there is no multiply to
        // contract into an FMA.
        const float centered = x - mean;
        x = centered / std;
      }
      t->lut[c][v] = x;
    }
  }
}

}  // namespace

void PreprocessRgbToTensor(const DecodedImage& rgb, const PreprocessConfig& cfg, float* out_chw) {
  if (out_chw == nullptr) throw Error(codes::kInvalidArgument, "preprocess: null output");
  if (rgb.channels != 3 || rgb.width <= 0 || rgb.height <= 0 ||
      rgb.pixels.size() != static_cast<size_t>(rgb.width) * static_cast<size_t>(rgb.height) * 3) {
    throw Error(codes::kInvalidArgument, "preprocess: expected a non-empty 3-channel RGB image");
  }

  // 1. Resized size (HF resize), then crop geometry in resized coordinates.
  // The geometry follows the image's full size; a JPEG decoded at a DCT-reduced scale is
  // resized from its reduced pixels to the same target.
  int rw, rh;
  cfg.ResizedSizeFor(rgb.LogicalWidth(), rgb.LogicalHeight(), &rw, &rh);
  int out_w = rw, out_h = rh, top = 0, left = 0;
  if (cfg.do_center_crop) {
    out_w = cfg.crop_width;
    out_h = cfg.crop_height;
    top = FloorDiv2(rh - out_h);
    left = FloorDiv2(rw - out_w);
  }
  // Output pixel (r, c) is resized pixel (r + top, c + left) when that is inside the resized
  // image, else zero padding. The part inside is the window [x0, x1) x [y0, y1).
  const int y0 = std::max(0, top), y1 = std::min(rh, top + out_h);
  const int x0 = std::max(0, left), x1 = std::min(rw, left + out_w);

  ValueTable table;
  BuildTable(cfg, &table);
  const size_t plane = static_cast<size_t>(out_w) * static_cast<size_t>(out_h);
  float* planes[3] = {out_chw, out_chw + plane, out_chw + 2 * plane};

  // 2. The window's uint8 pixels: straight from the source when nothing is resized (Pillow
  //    returns a copy for an unchanged size), else only that window of the resize.
  const uint8_t* win = nullptr;
  size_t win_stride = 0;
  std::vector<uint8_t> buffer;
  const bool has_window = x1 > x0 && y1 > y0;
  if (has_window) {
    const size_t src_stride = static_cast<size_t>(rgb.width) * 3;
    if (rw == rgb.width && rh == rgb.height) {
      win = rgb.pixels.data() + static_cast<size_t>(y0) * src_stride + static_cast<size_t>(x0) * 3;
      win_stride = src_stride;
    } else {
      win_stride = static_cast<size_t>(x1 - x0) * 3;
      buffer.resize(win_stride * static_cast<size_t>(y1 - y0));
      ResampleWindow(rgb.pixels.data(), rgb.width, rgb.height, 3, rw, rh, x0, y0, x1 - x0, y1 - y0, cfg.resample,
                     buffer.data(), win_stride);
      win = buffer.data();
    }
  }

  // 3. Rescale + normalise + HWC -> CHW, with padding values where outside the window.
  const float pad[3] = {table.lut[0][0], table.lut[1][0], table.lut[2][0]};
  const int pad_left = x0 - left;             // output columns [0, pad_left) are padding
  const int data_end = pad_left + (x1 - x0);  // [pad_left, data_end) come from the window
  for (int r = 0; r < out_h; ++r) {
    const int ry = r + top;
    const size_t row_off = static_cast<size_t>(r) * static_cast<size_t>(out_w);
    if (!has_window || ry < y0 || ry >= y1) {
      for (int c = 0; c < 3; ++c) std::fill_n(planes[c] + row_off, out_w, pad[c]);
      continue;
    }
    const uint8_t* src = win + static_cast<size_t>(ry - y0) * win_stride;
    float* __restrict pr = planes[0] + row_off;
    float* __restrict pg = planes[1] + row_off;
    float* __restrict pb = planes[2] + row_off;
    for (int c = 0; c < 3; ++c) std::fill_n(planes[c] + row_off, pad_left, pad[c]);
    for (int x = pad_left; x < data_end; ++x, src += 3) {
      pr[x] = table.lut[0][src[0]];
      pg[x] = table.lut[1][src[1]];
      pb[x] = table.lut[2][src[2]];
    }
    for (int c = 0; c < 3; ++c) {
      std::fill_n(planes[c] + row_off + data_end, out_w - data_end, pad[c]);
    }
  }
}

}  // namespace crossmodal::image
