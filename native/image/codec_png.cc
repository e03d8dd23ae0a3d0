// PNG decoding with libpng, matching Pillow 9.4's PngImagePlugin + convert("RGB").
//
// Pillow's mode mapping (PngImagePlugin._MODES) and what convert("RGB") then does:
//   gray 1/2/4/8-bit  -> "1"/"L" (values scaled to 0..255)       -> replicated
//   gray 16-bit       -> "I" (0..65535)                           -> clamped to 0..255 (i2rgb)
//   RGB 8/16-bit      -> "RGB" (16-bit: high byte, RGB;16B)       -> as is
//   palette 1..8-bit  -> "P" (palette ramp-initialised: indices past PLTE give (i,i,i))
//   gray+alpha 8      -> "LA"; 16-bit -> "RGBA" via LA;16B (high byte) -> gray replicated
//   RGBA 8/16-bit     -> "RGBA" (16-bit: high byte)               -> alpha dropped
// tRNS never changes the colour values; gamma, iCCP, sBIT are ignored (Pillow ignores them).
//
// Integrity checks follow Pillow too: CRCs of all chunks before the image data are verified
// (Pillow raises "broken PNG file"), IDAT CRCs are not (Pillow skips them), and once every row
// has been decoded nothing after it matters (a truncated final CRC / zlib trailer / IEND is
// accepted, as Pillow stops reading when the image is complete). Truncation before the last
// row is an ERR_IMAGE_DECODE.
//
// setjmp discipline: functions calling setjmp (Png*Phase) only hold PODs and raw pointers.

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <png.h>

#include "common/error.h"
#include "image/codecs_internal.h"

namespace crossmodal::image::detail {

namespace {

struct PngState {
  png_structp png;
  png_infop info;
  const uint8_t* data;
  size_t size;
  size_t pos;
  bool interlaced;
  bool rows_complete;  // set by PngErrorFn: the error came after the last row was delivered
  char message[256];
};

// True once libpng has delivered every row (it is then only finishing the IDAT stream).
// png_read_row copies a row out before png_read_finish_row advances these counters, and the
// final png_read_finish_row is where the IDAT trailer (zlib end, CRC) is consumed.
bool RowsComplete(png_structp png, const PngState* st) {
  if (st->interlaced) return png_get_current_pass_number(png) >= 7;
  return png_get_current_row_number(png) >= png_get_image_height(png, st->info);
}

void PngErrorFn(png_structp png, png_const_charp msg) {
  auto* st = static_cast<PngState*>(png_get_error_ptr(png));
  std::snprintf(st->message, sizeof(st->message), "%s", msg ? msg : "unknown libpng error");
  st->rows_complete = st->info != nullptr && RowsComplete(png, st);
  png_longjmp(png, 1);
}

void PngWarningFn(png_structp, png_const_charp) {}  // Pillow ignores ancillary problems too

void PngReadFn(png_structp png, png_bytep out, size_t length) {
  auto* st = static_cast<PngState*>(png_get_io_ptr(png));
  if (length > st->size - st->pos) png_error(png, "unexpected end of data (truncated PNG)");
  std::memcpy(out, st->data + st->pos, length);
  st->pos += length;
}

int PngInfoPhase(PngState* st) {
  if (setjmp(png_jmpbuf(st->png))) return 1;
  png_set_read_fn(st->png, st, PngReadFn);
  // Our own max_pixels check applies instead of libpng's 1,000,000 x 1,000,000 default.
  png_set_user_limits(st->png, 0x7fffffff, 0x7fffffff);
  // Chunks before the image data: any CRC error is fatal (libpng would only warn and skip
  // a bad ancillary chunk; Pillow rejects the file).
  png_set_crc_action(st->png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
  png_read_info(st->png, st->info);
  // From the first IDAT on: CRCs are not checked, like Pillow.
  png_set_crc_action(st->png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
  return 0;
}

int PngSetupPhase(PngState* st, int bit_depth, int* passes) {
  if (setjmp(png_jmpbuf(st->png))) return 1;
  if (bit_depth < 8) png_set_packing(st->png);  // one byte per sample, values unscaled
  *passes = png_set_interlace_handling(st->png);
  png_read_update_info(st->png, st->info);
  return 0;
}

int PngRowPhase(PngState* st, uint8_t* row) {
  if (setjmp(png_jmpbuf(st->png))) return 1;
  png_read_row(st->png, row, nullptr);
  return 0;
}

int PngImagePhase(PngState* st, png_bytepp rows) {
  if (setjmp(png_jmpbuf(st->png))) return 1;
  png_read_image(st->png, rows);
  return 0;
}

struct PngGuard {
  PngState* st;
  ~PngGuard() {
    if (st->png) png_destroy_read_struct(&st->png, st->info ? &st->info : nullptr, nullptr);
  }
};

// Converts one row of libpng output (after png_set_packing) to RGB.
void ConvertRow(const uint8_t* raw, uint8_t* out, size_t w, int color_type, int bit_depth,
                const uint8_t* palette) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
      if (bit_depth == 16) {
        for (size_t i = 0; i < w; ++i) {
          const unsigned v = (unsigned{raw[2 * i]} << 8) | raw[2 * i + 1];
          out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = static_cast<uint8_t>(v > 255 ? 255 : v);
        }
      } else {
        const unsigned scale = 255u / ((1u << bit_depth) - 1u);  // 255, 85, 17, 1
        for (size_t i = 0; i < w; ++i) {
          out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = static_cast<uint8_t>(raw[i] * scale);
        }
      }
      break;
    case PNG_COLOR_TYPE_PALETTE:
      for (size_t i = 0; i < w; ++i) std::memcpy(out + 3 * i, palette + 3 * raw[i], 3);
      break;
    case PNG_COLOR_TYPE_RGB:
      if (bit_depth == 16) {
        for (size_t i = 0; i < w; ++i) {
          out[3 * i] = raw[6 * i];
          out[3 * i + 1] = raw[6 * i + 2];
          out[3 * i + 2] = raw[6 * i + 4];
        }
      } else {
        std::memcpy(out, raw, 3 * w);
      }
      break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: {
      const size_t step = bit_depth == 16 ? 4 : 2;
      for (size_t i = 0; i < w; ++i) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = raw[step * i];
      break;
    }
    case PNG_COLOR_TYPE_RGB_ALPHA: {
      const size_t step = bit_depth == 16 ? 8 : 4, off = bit_depth == 16 ? 2 : 1;
      for (size_t i = 0; i < w; ++i) {
        out[3 * i] = raw[step * i];
        out[3 * i + 1] = raw[step * i + off];
        out[3 * i + 2] = raw[step * i + 2 * off];
      }
      break;
    }
  }
}

}  // namespace

DecodedImage DecodePng(const uint8_t* data, size_t size, const DecodeLimits& limits) {
  PngState st;
  std::memset(&st, 0, sizeof(st));
  st.data = data;
  st.size = size;
  st.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st, PngErrorFn, PngWarningFn);
  if (!st.png) throw Error(codes::kInternal, "png_create_read_struct failed");
  PngGuard guard{&st};
  st.info = png_create_info_struct(st.png);
  if (!st.info) throw Error(codes::kInternal, "png_create_info_struct failed");

  if (PngInfoPhase(&st) != 0) {
    throw Error(codes::kImageDecode, std::string("invalid PNG: ") + st.message);
  }
  const png_uint_32 w = png_get_image_width(st.png, st.info);
  const png_uint_32 h = png_get_image_height(st.png, st.info);
  const int bit_depth = png_get_bit_depth(st.png, st.info);
  const int color_type = png_get_color_type(st.png, st.info);
  const bool interlaced = png_get_interlace_type(st.png, st.info) != PNG_INTERLACE_NONE;
  st.interlaced = interlaced;
  CheckDimensions(w, h, limits, "PNG");

  // Palette: Pillow initialises all 256 entries to the gray ramp, then overwrites the first
  // num_palette entries with PLTE.
  uint8_t palette[256 * 3];
  for (int i = 0; i < 256; ++i) palette[3 * i] = palette[3 * i + 1] = palette[3 * i + 2] = i;
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_colorp plte = nullptr;
    int num = 0;
    if (!png_get_PLTE(st.png, st.info, &plte, &num) || !plte) {
      throw Error(codes::kImageDecode, "invalid PNG: palette image without PLTE chunk");
    }
    if (num > 256) num = 256;
    for (int i = 0; i < num; ++i) {
      palette[3 * i] = plte[i].red;
      palette[3 * i + 1] = plte[i].green;
      palette[3 * i + 2] = plte[i].blue;
    }
  }

  int passes = 1;
  if (PngSetupPhase(&st, bit_depth, &passes) != 0) {
    throw Error(codes::kImageDecode, std::string("invalid PNG: ") + st.message);
  }
  const size_t rowbytes = png_get_rowbytes(st.png, st.info);

  DecodedImage img;
  img.width = static_cast<int>(w);
  img.height = static_cast<int>(h);
  img.channels = 3;
  img.pixels.resize(size_t{w} * h * 3);
  uint8_t* out = img.pixels.data();
  const size_t out_stride = size_t{w} * 3;
  const bool direct = color_type == PNG_COLOR_TYPE_RGB && bit_depth == 8;
  if (direct && rowbytes != out_stride) {
    throw Error(codes::kInternal, "unexpected PNG row size");
  }

  if (!interlaced) {
    std::vector<uint8_t> row(direct ? 0 : rowbytes);
    for (png_uint_32 y = 0; y < h; ++y) {
      uint8_t* dst = out + y * out_stride;
      if (PngRowPhase(&st, direct ? dst : row.data()) != 0 && !st.rows_complete) {
        throw Error(codes::kImageDecode, std::string("corrupt PNG data: ") + st.message);
      }
      if (!direct) ConvertRow(row.data(), dst, w, color_type, bit_depth, palette);
    }
  } else {
    // Adam7 needs the whole image in libpng's row format.
    std::vector<uint8_t> raw(direct ? 0 : rowbytes * h);
    std::vector<png_bytep> rows(h);
    for (png_uint_32 y = 0; y < h; ++y) {
      rows[y] = direct ? out + y * out_stride : raw.data() + y * rowbytes;
    }
    if (PngImagePhase(&st, rows.data()) != 0 && !st.rows_complete) {
      throw Error(codes::kImageDecode, std::string("corrupt PNG data: ") + st.message);
    }
    if (!direct) {
      for (png_uint_32 y = 0; y < h; ++y) {
        ConvertRow(rows[y], out + y * out_stride, w, color_type, bit_depth, palette);
      }
    }
  }
  // png_read_end is not called: like Pillow, data after the last IDAT (including a missing
  // IEND) does not matter once the image rows are complete.
  return img;
}

}  // namespace crossmodal::image::detail
