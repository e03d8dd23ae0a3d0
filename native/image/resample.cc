// Port of Pillow 9.4's libImaging/Resample.c (ImagingResample, 8 bits per channel) and of the
// nearest-neighbour path of Image.resize (Geometry.c, ImagingScaleAffine). See resample.h.
//
// Bit-exactness notes:
//  * The floating-point coefficient maths must be evaluated exactly as Pillow's C code is on
//    x86-64 (separately rounded multiplies and adds). With -march=native/-mfma the compiler
//    would otherwise be allowed to fuse a*b+c into an FMA and change the last bit of a
//    coefficient, which can flip a rounded output pixel. FP contraction is therefore disabled
//    for this file.
//  * Integer accumulation is exact (no overflow: |sum of coefficients| * 255 < 2^31), so the
//    loop order below may differ from Pillow's without changing any result.
//  * Computing only a window of the output is exact: every output pixel depends only on its
//    own coefficients (which depend on the full output size, not on the window) and on the
//    horizontally resampled rows, each of which depends only on its own source row.

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "image/resample.h"

#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"

namespace crossmodal::image {

namespace {

// ---- Filters (Resample.c) --------------------------------------------------------------

constexpr double kPi = 3.14159265358979323846;  // M_PI

double BoxFilter(double x) {
  if (x > -0.5 && x <= 0.5) return 1.0;
  return 0.0;
}

double BilinearFilter(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

double HammingFilter(double x) {
  if (x < 0.0) x = -x;
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * kPi;
  // Pillow uses float literals here (0.54f, 0.46f); keep them.
  return std::sin(x) / x * (0.54f + 0.46f * std::cos(x));
}

double BicubicFilter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double SincFilter(double x) {
  if (x == 0.0) return 1.0;
  x = x * kPi;
  return std::sin(x) / x;
}

double LanczosFilter(double x) {
  if (-3.0 <= x && x < 3.0) return SincFilter(x) * SincFilter(x / 3);
  return 0.0;
}

struct FilterDef {
  double (*fn)(double);
  double support;
};

constexpr FilterDef kBoxDef{BoxFilter, 0.5};
constexpr FilterDef kBilinearDef{BilinearFilter, 1.0};
constexpr FilterDef kHammingDef{HammingFilter, 1.0};
constexpr FilterDef kBicubicDef{BicubicFilter, 2.0};
constexpr FilterDef kLanczosDef{LanczosFilter, 3.0};

const FilterDef* GetFilterDef(Filter f) {
  switch (f) {
    case Filter::kBox:
      return &kBoxDef;
    case Filter::kBilinear:
      return &kBilinearDef;
    case Filter::kHamming:
      return &kHammingDef;
    case Filter::kBicubic:
      return &kBicubicDef;
    case Filter::kLanczos:
      return &kLanczosDef;
    case Filter::kNearest:
      break;
  }
  return nullptr;
}

// 8 bits for the result, 2 extra bits for overshoot of filters with negative lobes.
constexpr int kPrecisionBits = 32 - 8 - 2;

inline uint8_t Clip8(int32_t in) {
  // Pillow: clip8_lookups[in >> PRECISION_BITS] with a table clamping to 0..255.
  const int32_t v = in >> kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// ---- Coefficients (precompute_coeffs + normalize_coeffs_8bpc) ---------------------------

struct Coeffs {
  int ksize = 0;
  std::vector<int> xmin;   // first source index, per output position
  std::vector<int> count;  // number of taps, per output position
  std::vector<int32_t> k;  // fixed-point taps, ksize per output position
};

// Coefficients for output positions [begin, end) of resampling the source span [in0, in1)
// (of in_size samples) to out_size samples.
Coeffs PrecomputeCoeffs(int in_size, float in0, float in1, int out_size, const FilterDef& filter, int begin, int end) {
  double support, scale, filterscale;
  filterscale = scale = static_cast<double>(in1 - in0) / out_size;
  if (filterscale < 1.0) filterscale = 1.0;
  support = filter.support * filterscale;

  const double ceil_support = std::ceil(support);
  if (!(ceil_support < static_cast<double>(INT_MAX / 4))) {
    throw Error(codes::kInvalidArgument, "resize ratio too large");
  }
  Coeffs c;
  c.ksize = static_cast<int>(ceil_support) * 2 + 1;
  const size_t n = static_cast<size_t>(end - begin);
  const size_t ksize = static_cast<size_t>(c.ksize);
  if (n != 0 && ksize > SIZE_MAX / sizeof(int32_t) / n) {
    throw Error(codes::kInvalidArgument, "resize ratio too large");
  }
  c.xmin.resize(n);
  c.count.resize(n);
  c.k.assign(n * ksize, 0);
  std::vector<double> w(ksize);

  for (int xx = begin; xx < end; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    double ww = 0.0;
    const double ss = 1.0 / filterscale;
    // Round the value
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    // Round the value
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    if (xmax < 0) xmax = 0;
    if (xmax > c.ksize) xmax = c.ksize;  // cannot happen; guards the buffer
    for (int x = 0; x < xmax; ++x) {
      const double v = filter.fn((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) w[x] /= ww;
    }
    const size_t i = static_cast<size_t>(xx - begin);
    int32_t* k = &c.k[i * ksize];
    for (int x = 0; x < xmax; ++x) {
      if (w[x] < 0) {
        k[x] = static_cast<int32_t>(-0.5 + w[x] * (1 << kPrecisionBits));
      } else {
        k[x] = static_cast<int32_t>(0.5 + w[x] * (1 << kPrecisionBits));
      }
    }
    c.xmin[i] = xmin;
    c.count[i] = xmax;
  }
  return c;
}

// ---- Passes -------------------------------------------------------------------------------

// Horizontal pass over `rows` rows: src rows are `src_stride` bytes apart, starting at `src`;
// writes cx.xmin.size() pixels per row to dst rows `dst_stride` bytes apart.
template <int C>
void HorizontalPass(const uint8_t* __restrict src, size_t src_stride, int rows, const Coeffs& cx,
                    uint8_t* __restrict dst, size_t dst_stride) {
  const int out_w = static_cast<int>(cx.xmin.size());
  const size_t ksize = static_cast<size_t>(cx.ksize);
  for (int r = 0; r < rows; ++r) {
    const uint8_t* in = src + static_cast<size_t>(r) * src_stride;
    uint8_t* out = dst + static_cast<size_t>(r) * dst_stride;
    for (int xx = 0; xx < out_w; ++xx) {
      const uint8_t* p = in + static_cast<size_t>(cx.xmin[xx]) * C;
      const int32_t* k = &cx.k[static_cast<size_t>(xx) * ksize];
      const int cnt = cx.count[xx];
      int32_t ss[C];
      for (int ch = 0; ch < C; ++ch) ss[ch] = 1 << (kPrecisionBits - 1);
      for (int x = 0; x < cnt; ++x) {
        const int32_t kv = k[x];
        for (int ch = 0; ch < C; ++ch) ss[ch] += static_cast<int32_t>(p[x * C + ch]) * kv;
      }
      for (int ch = 0; ch < C; ++ch) out[xx * C + ch] = Clip8(ss[ch]);
    }
  }
}

void HorizontalPassDispatch(int channels, const uint8_t* src, size_t src_stride, int rows, const Coeffs& cx,
                            uint8_t* dst, size_t dst_stride) {
  switch (channels) {
    case 1:
      HorizontalPass<1>(src, src_stride, rows, cx, dst, dst_stride);
      break;
    case 2:
      HorizontalPass<2>(src, src_stride, rows, cx, dst, dst_stride);
      break;
    case 3:
      HorizontalPass<3>(src, src_stride, rows, cx, dst, dst_stride);
      break;
    default:
      HorizontalPass<4>(src, src_stride, rows, cx, dst, dst_stride);
      break;
  }
}

// Vertical pass: output row i uses source rows cy.xmin[i] .. + cy.count[i], where source row
// r lives at src + (r - row_base) * src_stride. Each row has row_bytes bytes.
void VerticalPass(const uint8_t* __restrict src, size_t src_stride, int row_base, size_t row_bytes, const Coeffs& cy,
                  uint8_t* __restrict dst, size_t dst_stride) {
  const int out_h = static_cast<int>(cy.xmin.size());
  const size_t ksize = static_cast<size_t>(cy.ksize);
  std::vector<int32_t> acc(row_bytes);
  for (int yy = 0; yy < out_h; ++yy) {
    const int32_t* k = &cy.k[static_cast<size_t>(yy) * ksize];
    const int ymin = cy.xmin[yy] - row_base;
    const int cnt = cy.count[yy];
    int32_t* __restrict a = acc.data();
    for (size_t i = 0; i < row_bytes; ++i) a[i] = 1 << (kPrecisionBits - 1);
    for (int y = 0; y < cnt; ++y) {
      const uint8_t* __restrict row = src + static_cast<size_t>(ymin + y) * src_stride;
      const int32_t kv = k[y];
      for (size_t i = 0; i < row_bytes; ++i) a[i] += static_cast<int32_t>(row[i]) * kv;
    }
    uint8_t* out = dst + static_cast<size_t>(yy) * dst_stride;
    for (size_t i = 0; i < row_bytes; ++i) out[i] = Clip8(a[i]);
  }
}

// ---- Nearest (Image.resize(..., NEAREST) -> ImagingTransform affine -> ImagingScaleAffine) ---

inline int Coord(double v) { return v < 0.0 ? -1 : static_cast<int>(v); }

void NearestWindow(const uint8_t* src, int src_w, int src_h, int channels, int dst_w, int dst_h, int win_x, int win_y,
                   int win_w, int win_h, uint8_t* dst, size_t dst_stride) {
  // _imaging.c _resize: a[0] = (double)(box[2] - box[0]) / xsize (box is float[4]);
  // a[4] likewise; a[2] = box[0] = 0, a[5] = box[1] = 0.
  const double a0 = static_cast<double>(static_cast<float>(src_w) - 0.0f) / dst_w;
  const double a4 = static_cast<double>(static_cast<float>(src_h) - 0.0f) / dst_h;
  const double a2 = 0.0, a5 = 0.0;
  const size_t px = static_cast<size_t>(channels);
  const size_t src_stride = static_cast<size_t>(src_w) * px;

  // Pretabulate horizontal positions exactly as Pillow does (accumulating xo += a[0]).
  std::vector<int> xintab(static_cast<size_t>(dst_w), 0);
  double xo = a2 + a0 * 0.5;
  int xmin = dst_w, xmax = 0;
  for (int x = 0; x < dst_w; ++x) {
    const int xin = Coord(xo);
    if (xin >= 0 && xin < src_w) {
      xmax = x + 1;
      if (x < xmin) xmin = x;
      xintab[static_cast<size_t>(x)] = xin;
    }
    xo += a0;
  }
  const int x_begin = xmin > win_x ? xmin : win_x;
  const int x_end = xmax < win_x + win_w ? xmax : win_x + win_w;

  double yo = a5 + a4 * 0.5;
  for (int y = 0; y < win_y + win_h; ++y) {
    const int yi = Coord(yo);
    yo += a4;
    if (y < win_y) continue;
    uint8_t* out = dst + static_cast<size_t>(y - win_y) * dst_stride;
    std::memset(out, 0, static_cast<size_t>(win_w) * px);  // fill = 1
    if (yi >= 0 && yi < src_h) {
      const uint8_t* in = src + static_cast<size_t>(yi) * src_stride;
      for (int x = x_begin; x < x_end; ++x) {
        std::memcpy(out + static_cast<size_t>(x - win_x) * px,
                    in + static_cast<size_t>(xintab[static_cast<size_t>(x)]) * px, px);
      }
    }
  }
}

void CheckArgs(const uint8_t* src, int src_w, int src_h, int channels, const uint8_t* dst, int dst_w, int dst_h,
               Filter filter) {
  if (src == nullptr || dst == nullptr) {
    throw Error(codes::kInvalidArgument, "resample: null buffer");
  }
  if (src_w <= 0 || src_h <= 0 || dst_w <= 0 || dst_h <= 0) {
    throw Error(codes::kInvalidArgument, "resample: sizes must be positive (" + std::to_string(src_w) + "x" +
                                             std::to_string(src_h) + " -> " + std::to_string(dst_w) + "x" +
                                             std::to_string(dst_h) + ")");
  }
  if (channels < 1 || channels > 4) {
    throw Error(codes::kInvalidArgument, "resample: channels must be 1..4");
  }
  if (static_cast<int>(filter) < 0 || static_cast<int>(filter) > 5) {
    throw Error(codes::kInvalidArgument, "resample: unknown filter");
  }
}

}  // namespace

bool FilterFromPillowCode(int code, Filter* out) {
  if (code < 0 || code > 5) return false;
  *out = static_cast<Filter>(code);
  return true;
}

const char* FilterName(Filter filter) {
  switch (filter) {
    case Filter::kNearest:
      return "nearest";
    case Filter::kLanczos:
      return "lanczos";
    case Filter::kBilinear:
      return "bilinear";
    case Filter::kBicubic:
      return "bicubic";
    case Filter::kBox:
      return "box";
    case Filter::kHamming:
      return "hamming";
  }
  return "unknown";
}

void ResampleWindow(const uint8_t* src, int src_w, int src_h, int channels, int dst_w, int dst_h, int win_x, int win_y,
                    int win_w, int win_h, Filter filter, uint8_t* dst, size_t dst_stride) {
  CheckArgs(src, src_w, src_h, channels, dst, dst_w, dst_h, filter);
  if (win_w <= 0 || win_h <= 0 || win_x < 0 || win_y < 0 || win_x > dst_w - win_w || win_y > dst_h - win_h) {
    throw Error(codes::kInvalidArgument, "resample: window outside the output image");
  }
  const size_t px = static_cast<size_t>(channels);
  const size_t src_stride = static_cast<size_t>(src_w) * px;
  const size_t win_bytes = static_cast<size_t>(win_w) * px;
  if (dst_stride < win_bytes) {
    throw Error(codes::kInvalidArgument, "resample: destination stride too small");
  }

  // Image.resize returns a copy when the size does not change (any filter).
  if (src_w == dst_w && src_h == dst_h) {
    for (int y = 0; y < win_h; ++y) {
      std::memcpy(dst + static_cast<size_t>(y) * dst_stride,
                  src + static_cast<size_t>(win_y + y) * src_stride + static_cast<size_t>(win_x) * px, win_bytes);
    }
    return;
  }
  if (filter == Filter::kNearest) {
    NearestWindow(src, src_w, src_h, channels, dst_w, dst_h, win_x, win_y, win_w, win_h, dst, dst_stride);
    return;
  }

  const FilterDef& fd = *GetFilterDef(filter);
  // box = (0, 0, src_w, src_h) as float[4], as Image.resize passes it.
  const bool need_horizontal = dst_w != src_w;
  const bool need_vertical = dst_h != src_h;

  if (!need_vertical) {
    // Horizontal pass only; output rows are the source rows.
    const Coeffs cx = PrecomputeCoeffs(src_w, 0.0f, static_cast<float>(src_w), dst_w, fd, win_x, win_x + win_w);
    HorizontalPassDispatch(channels, src + static_cast<size_t>(win_y) * src_stride, src_stride, win_h, cx, dst,
                           dst_stride);
    return;
  }

  const Coeffs cy = PrecomputeCoeffs(src_h, 0.0f, static_cast<float>(src_h), dst_h, fd, win_y, win_y + win_h);
  if (!need_horizontal) {
    VerticalPass(src + static_cast<size_t>(win_x) * px, src_stride, 0, win_bytes, cy, dst, dst_stride);
    return;
  }

  // Source rows the vertical pass reads (Pillow: ybox_first .. ybox_last).
  int row_first = INT_MAX, row_last = 0;
  for (size_t i = 0; i < cy.xmin.size(); ++i) {
    if (cy.count[i] == 0) continue;
    if (cy.xmin[i] < row_first) row_first = cy.xmin[i];
    if (cy.xmin[i] + cy.count[i] > row_last) row_last = cy.xmin[i] + cy.count[i];
  }
  if (row_first > row_last) row_first = row_last = 0;  // no taps at all (degenerate)
  const int rows = row_last - row_first;

  const Coeffs cx = PrecomputeCoeffs(src_w, 0.0f, static_cast<float>(src_w), dst_w, fd, win_x, win_x + win_w);
  std::vector<uint8_t> tmp(static_cast<size_t>(rows) * win_bytes);
  HorizontalPassDispatch(channels, src + static_cast<size_t>(row_first) * src_stride, src_stride, rows, cx, tmp.data(),
                         win_bytes);
  VerticalPass(tmp.data(), win_bytes, row_first, win_bytes, cy, dst, dst_stride);
}

void Resample(const uint8_t* src, int src_w, int src_h, int channels, uint8_t* dst, int dst_w, int dst_h,
              Filter filter) {
  CheckArgs(src, src_w, src_h, channels, dst, dst_w, dst_h, filter);
  ResampleWindow(src, src_w, src_h, channels, dst_w, dst_h, 0, 0, dst_w, dst_h, filter, dst,
                 static_cast<size_t>(dst_w) * static_cast<size_t>(channels));
}

DecodedImage Resample(const DecodedImage& src, int dst_w, int dst_h, Filter filter) {
  if (src.width <= 0 || src.height <= 0 || src.channels < 1 || src.channels > 4 ||
      src.pixels.size() !=
          static_cast<size_t>(src.width) * static_cast<size_t>(src.height) * static_cast<size_t>(src.channels)) {
    throw Error(codes::kInvalidArgument, "resample: malformed source image");
  }
  if (dst_w <= 0 || dst_h <= 0) {
    throw Error(codes::kInvalidArgument, "resample: sizes must be positive");
  }
  DecodedImage out;
  out.width = dst_w;
  out.height = dst_h;
  out.channels = src.channels;
  out.pixels.resize(static_cast<size_t>(dst_w) * static_cast<size_t>(dst_h) * static_cast<size_t>(src.channels));
  Resample(src.pixels.data(), src.width, src.height, src.channels, out.pixels.data(), dst_w, dst_h, filter);
  return out;
}

}  // namespace crossmodal::image
