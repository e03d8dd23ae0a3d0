// JPEG decoding with libjpeg(-turbo), matching Pillow 9.4's JpegDecode + convert("RGB").
//
// libjpeg reports fatal errors through error_exit, which must not return: we longjmp out of it.
// To keep setjmp/longjmp well-defined in C++, every function that calls setjmp below
// (JpegReadHeader, JpegDecodeRows) touches only trivially destructible state (a POD struct and
// raw pointers); all C++ objects with destructors (std::vector, std::string, the RAII guard)
// live in DecodeJpeg, which never calls setjmp itself.

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE
#include <cstring>
#include <string>

extern "C" {
#include <jerror.h>
#include <jpeglib.h>
}

#include "common/error.h"
#include "image/codecs_internal.h"

namespace crossmodal::image::detail {

namespace {

struct JpegErrorManager {
  jpeg_error_mgr pub;  // must be first: libjpeg hands us a jpeg_error_mgr*
  std::jmp_buf jump;
  bool eof_is_fatal;  // "Premature end of JPEG file" aborts (true until all rows are read)
  char message[JMSG_LENGTH_MAX];
};

struct JpegState {
  jpeg_decompress_struct cinfo;
  JpegErrorManager err;
  jpeg_progress_mgr progress;
};

// A legitimate progressive JPEG has about 10 scans (libjpeg's standard script; optimising
// encoders stay well under 100); a crafted one can repeat scans thousands of times, each
// costing a pass over the whole coefficient buffer (~1 ms per scan per 0.2 MP here), so a small
// file can burn minutes of CPU. Pillow has no such limit (it is the one deliberate divergence);
// libjpeg-turbo suggests applications set one (djpeg -maxscans, TJPARAM_SCANLIMIT).
constexpr int kMaxScans = 100;

[[noreturn]] void JpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (msg_level == -1) and trace messages (> 0). Pillow installs a no-op output_message,
// so libjpeg's recoverable "Corrupt JPEG data: ..." warnings do not fail a decode there; we do
// the same. The exception is "Premature end of JPEG file": with an in-memory source libjpeg
// pads the missing data with an EOI marker and would hand back a partly gray image, whereas
// Pillow's suspending source stalls and (without ImageFile.LOAD_TRUNCATED_IMAGES) raises "image
// file is truncated". We make it fatal while rows are still missing. After the last row, Pillow
// calls jpeg_finish_decompress and accepts a suspension there (e.g. missing EOI), so it is
// ignored in that phase, while real errors in it still fail the decode, as in Pillow.
void JpegEmitMessage(j_common_ptr cinfo, int msg_level) {
  if (msg_level < 0) {
    auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
    if (cinfo->err->msg_code == JWRN_JPEG_EOF && err->eof_is_fatal) JpegErrorExit(cinfo);
    cinfo->err->num_warnings++;
  }
}

void JpegOutputMessage(j_common_ptr) {}  // never print to stderr

void JpegProgress(j_common_ptr cinfo) {
  auto* dinfo = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (dinfo->input_scan_number > kMaxScans) {
    auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
    std::snprintf(err->message, sizeof(err->message),
                  "more than %d progressive scans (rejected as a likely decompression bomb)", kMaxScans);
    std::longjmp(err->jump, 1);
  }
}

// Returns 0 on success, 1 on a libjpeg error (message in st->err.message).
int JpegReadHeader(JpegState* st, const uint8_t* data, size_t size) {
  st->cinfo.err = jpeg_std_error(&st->err.pub);
  st->err.eof_is_fatal = true;
  st->err.pub.error_exit = JpegErrorExit;
  st->err.pub.emit_message = JpegEmitMessage;
  st->err.pub.output_message = JpegOutputMessage;
  if (setjmp(st->err.jump)) return 1;
  jpeg_create_decompress(&st->cinfo);
  st->progress.progress_monitor = JpegProgress;
  st->cinfo.progress = &st->progress;
  jpeg_mem_src(&st->cinfo, data, static_cast<unsigned long>(size));
  // Like Pillow: skip tables-only datastreams until one with an image (each call consumes
  // input, and running out of it is fatal, so this terminates).
  while (jpeg_read_header(&st->cinfo, FALSE) == JPEG_HEADER_TABLES_ONLY) {
  }
  return 0;
}

// Decodes all scanlines into `out` (rows of `stride` bytes). Returns 0 / 1 like above.
int JpegDecodeRows(JpegState* st, J_COLOR_SPACE out_space, int expected_components, unsigned scale_denom, size_t out_w,
                   size_t out_h, uint8_t* out, size_t stride) {
  if (setjmp(st->err.jump)) return 1;
  st->cinfo.out_color_space = out_space;
  // Pillow's defaults (no draft mode): accurate integer IDCT, fancy upsampling, no scaling
  // unless DCT-domain downscaling was asked for.
  st->cinfo.dct_method = JDCT_ISLOW;
  st->cinfo.do_fancy_upsampling = TRUE;
  st->cinfo.scale_num = 1;
  st->cinfo.scale_denom = scale_denom;
  jpeg_start_decompress(&st->cinfo);
  if (st->cinfo.output_components != expected_components) {
    std::snprintf(st->err.message, sizeof(st->err.message), "unexpected JPEG output components %d",
                  st->cinfo.output_components);
    return 1;
  }
  if (st->cinfo.output_width != out_w || st->cinfo.output_height != out_h) {
    std::snprintf(st->err.message, sizeof(st->err.message), "unexpected JPEG output size %ux%u",
                  static_cast<unsigned>(st->cinfo.output_width), static_cast<unsigned>(st->cinfo.output_height));
    return 1;
  }
  JSAMPROW rows[16];
  while (st->cinfo.output_scanline < st->cinfo.output_height) {
    const JDIMENSION y = st->cinfo.output_scanline;
    JDIMENSION n = st->cinfo.output_height - y;
    if (n > 16) n = 16;
    for (JDIMENSION i = 0; i < n; ++i) rows[i] = out + static_cast<size_t>(y + i) * stride;
    jpeg_read_scanlines(&st->cinfo, rows, n);
  }
  st->err.eof_is_fatal = false;
  jpeg_finish_decompress(&st->cinfo);
  return 0;
}

struct JpegGuard {
  JpegState* st;
  ~JpegGuard() { jpeg_destroy_decompress(&st->cinfo); }
};

// Pillow's MULDIV255: (a * b + 128) scaled by 1/255 with rounding.
inline int MulDiv255(int a, int b) {
  const int tmp = a * b + 128;
  return ((tmp >> 8) + tmp) >> 8;
}

}  // namespace

bool ProbeJpeg(const uint8_t* data, size_t size, uint64_t* width, uint64_t* height) {
  JpegState st;
  std::memset(&st, 0, sizeof(st));  // cinfo.mem == nullptr keeps jpeg_destroy safe on any path
  JpegGuard guard{&st};
  // jpeg_read_header reads the markers up to the first scan (SOF gives the size) and stops there.
  if (JpegReadHeader(&st, data, size) != 0) return false;
  *width = st.cinfo.image_width;
  *height = st.cinfo.image_height;
  return true;
}

DecodedImage DecodeJpeg(const uint8_t* data, size_t size, const DecodeLimits& limits, const DecodeOptions& options,
                        int orientation) {
  JpegState st;
  std::memset(&st, 0, sizeof(st));  // cinfo.mem == nullptr keeps jpeg_destroy safe on any path
  JpegGuard guard{&st};

  const bool header_ok = JpegReadHeader(&st, data, size) == 0;
  const jpeg_decompress_struct& ci = st.cinfo;
  // The frame header (SOF) gives the size before anything is allocated for pixels. libjpeg
  // checks its own 65500-pixel limit only when it reaches the first scan, and a tiny file can
  // declare a huge frame and then end: either way a declared size beyond maxPixels (or beyond
  // libjpeg's limit) is ERR_IMAGE_TOO_LARGE, not a decode error.
  if (ci.image_width > 0 && ci.image_height > 0) CheckDimensions(ci.image_width, ci.image_height, limits, "JPEG");
  if (!header_ok && st.err.pub.msg_code == JERR_IMAGE_TOO_BIG) {
    throw Error(codes::kImageTooLarge, std::string("JPEG image is too large: ") + st.err.message);
  }
  // libjpeg-turbo 2.x rejects 12-bit data inside jpeg_read_header; report it as unsupported.
  if (ci.data_precision != 8 && (header_ok || ci.data_precision == 12 || ci.data_precision == 16)) {
    throw Error(codes::kImageFormat,
                "unsupported JPEG: " + std::to_string(ci.data_precision) + "-bit samples (only 8-bit is supported)");
  }
  if (!header_ok) {
    throw Error(codes::kImageDecode, std::string("invalid JPEG: ") + st.err.message);
  }
  J_COLOR_SPACE out_space;
  int comps;
  switch (ci.num_components) {  // Pillow picks the mode from the SOF component count
    case 1:
      out_space = JCS_GRAYSCALE;
      comps = 1;
      break;
    case 3:
      out_space = JCS_RGB;
      comps = 3;
      break;
    case 4:
      out_space = JCS_CMYK;
      comps = 4;
      break;
    default:
      throw Error(codes::kImageFormat, "unsupported JPEG: " + std::to_string(ci.num_components) + " color components");
  }
  CheckDimensions(ci.image_width, ci.image_height, limits, "JPEG");

  const unsigned denom =
      static_cast<unsigned>(JpegScaleDenominator(options, orientation, ci.image_width, ci.image_height));
  // libjpeg's scaled size: ceil(full / denom).
  const size_t w = (ci.image_width + denom - 1) / denom, h = (ci.image_height + denom - 1) / denom;
  DecodedImage img;
  img.width = static_cast<int>(w);
  img.height = static_cast<int>(h);
  img.channels = 3;
  if (denom > 1) {
    img.full_width = static_cast<int>(ci.image_width);
    img.full_height = static_cast<int>(ci.image_height);
  }
  // Decode in place into the output buffer (CMYK needs 4 bytes per pixel, then shrinks).
  img.pixels.resize(w * h * (comps == 4 ? 4 : 3));
  uint8_t* px = img.pixels.data();
  if (JpegDecodeRows(&st, out_space, comps, denom, w, h, px, w * comps) != 0) {
    throw Error(codes::kImageDecode, std::string("corrupt JPEG data: ") + st.err.message);
  }

  const size_t n = w * h;
  if (comps == 1) {
    // Expand gray -> RGB in place, back to front.
    for (size_t i = n; i-- > 0;) {
      const uint8_t v = px[i];
      px[3 * i] = px[3 * i + 1] = px[3 * i + 2] = v;
    }
  } else if (comps == 4) {
    // Pillow reads 4-component JPEGs with rawmode "CMYK;I" (always assumes Adobe's inverted
    // polarity; libjpeg has already turned YCCK into CMYK), then cmyk2rgb:
    //   nk = 255 - K;  out = clip(nk - MULDIV255(C, nk))
    for (size_t i = 0; i < n; ++i) {
      const int c = 255 - px[4 * i], m = 255 - px[4 * i + 1], y = 255 - px[4 * i + 2];
      const int nk = px[4 * i + 3];  // 255 - (255 - raw K)
      // nk - MULDIV255(x, nk) is always within 0..255, so no clipping is needed.
      px[3 * i] = static_cast<uint8_t>(nk - MulDiv255(c, nk));
      px[3 * i + 1] = static_cast<uint8_t>(nk - MulDiv255(m, nk));
      px[3 * i + 2] = static_cast<uint8_t>(nk - MulDiv255(y, nk));
    }
    img.pixels.resize(n * 3);
    img.pixels.shrink_to_fit();
  }
  return img;
}

}  // namespace crossmodal::image::detail
