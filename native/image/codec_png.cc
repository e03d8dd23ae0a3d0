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
// Integrity semantics follow Pillow as well. Pillow feeds the IDAT stream to a push decoder and
// is done as soon as the last row is decoded, so we use libpng's progressive (push) reader the
// same way:
//  * CRCs of chunks before the image data are verified (Pillow raises "broken PNG file"); IDAT
//    CRCs are not (Pillow skips them);
//  * once every row has been decoded nothing after it matters: a truncated IDAT tail / zlib
//    trailer / CRC, a missing IEND or damaged chunks after the image are accepted;
//  * data ending before the last row is an ERR_IMAGE_DECODE ("truncated").
//
// setjmp discipline: PngProcess is the only function calling setjmp; it holds only PODs. The
// libpng callbacks never throw (they do plain copies, or png_error on inconsistency). All
// buffers are allocated in DecodePng (C++), before libpng starts, from a pre-parse of IHDR.

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <png.h>
#include <zlib.h>

#include "common/error.h"
#include "image/codecs_internal.h"

namespace crossmodal::image::detail {

namespace {

// Ancillary chunks before the image data are metadata (profiles, text, palettes of suggestions):
// none legitimately comes near this. libpng would buffer a whole chunk to parse it.
constexpr uint32_t kMaxAncillaryChunk = 8u << 20;

struct PngState {
  png_structp png;
  png_infop info;
  // Geometry from our IHDR pre-parse; libpng's view is checked against it in PngInfoFn.
  png_uint_32 width;
  png_uint_32 height;
  int bit_depth;
  int color_type;
  bool interlaced;
  size_t rowbytes;  // libpng row size after our transforms (png_set_packing)
  uint8_t palette[256 * 3];
  uint8_t* out;     // RGB output, width * 3 bytes per row
  png_bytepp rows;  // interlaced only: libpng-format rows of the whole image
  bool info_done;
  bool rows_complete;  // set on error: the error came after the last row was delivered
  char message[256];
};

// True once libpng has delivered every row of the image (every pass when interlaced).
bool RowsComplete(png_structp png, const PngState* st) {
  if (!st->info_done) return false;
  if (st->interlaced) return png_get_current_pass_number(png) >= 7;
  return png_get_current_row_number(png) >= st->height;
}

void PngErrorFn(png_structp png, png_const_charp msg) {
  auto* st = static_cast<PngState*>(png_get_error_ptr(png));
  std::snprintf(st->message, sizeof(st->message), "%s", msg ? msg : "unknown libpng error");
  st->rows_complete = RowsComplete(png, st);
  png_longjmp(png, 1);
}

void PngWarningFn(png_structp, png_const_charp) {}  // never print to stderr

// Converts one row of libpng output (after png_set_packing) to RGB.
void ConvertRow(const uint8_t* raw, uint8_t* out, size_t w, int color_type, int bit_depth, const uint8_t* palette) {
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

// Called by libpng at the first IDAT chunk (all header chunks read).
void PngInfoFn(png_structp png, png_infop info) {
  auto* st = static_cast<PngState*>(png_get_progressive_ptr(png));
  if (png_get_image_width(png, info) != st->width || png_get_image_height(png, info) != st->height ||
      png_get_bit_depth(png, info) != st->bit_depth || png_get_color_type(png, info) != st->color_type ||
      (png_get_interlace_type(png, info) != PNG_INTERLACE_NONE) != st->interlaced) {
    png_error(png, "inconsistent IHDR");
  }
  // Palette: Pillow initialises all 256 entries to the gray ramp, then overwrites the first
  // num_palette entries with PLTE.
  for (int i = 0; i < 256; ++i) {
    st->palette[3 * i] = st->palette[3 * i + 1] = st->palette[3 * i + 2] = static_cast<uint8_t>(i);
  }
  if (st->color_type == PNG_COLOR_TYPE_PALETTE) {
    png_colorp plte = nullptr;
    int num = 0;
    if (!png_get_PLTE(png, info, &plte, &num) || !plte) {
      png_error(png, "palette image without PLTE");
    }
    if (num > 256) num = 256;
    for (int i = 0; i < num; ++i) {
      st->palette[3 * i] = plte[i].red;
      st->palette[3 * i + 1] = plte[i].green;
      st->palette[3 * i + 2] = plte[i].blue;
    }
  }
  // From the first IDAT on, CRCs are not checked (Pillow skips IDAT CRCs).
  png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
  if (st->bit_depth < 8) png_set_packing(png);  // one byte per sample, values unscaled
  if (st->interlaced) png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != st->rowbytes) png_error(png, "unexpected PNG row size");
  st->info_done = true;
}

void PngRowFn(png_structp png, png_bytep new_row, png_uint_32 row_num, int /*pass*/) {
  auto* st = static_cast<PngState*>(png_get_progressive_ptr(png));
  if (new_row == nullptr || row_num >= st->height) return;  // no new data for this row
  if (st->interlaced) {
    png_progressive_combine_row(png, st->rows[row_num], new_row);
  } else {
    ConvertRow(new_row, st->out + static_cast<size_t>(row_num) * st->width * 3, st->width, st->color_type,
               st->bit_depth, st->palette);
  }
}

// Feeds the whole file to libpng's push reader. Returns 0 if libpng did not fail, 1 on a libpng
// error (message and rows_complete in *st).
int PngProcess(PngState* st, const uint8_t* data, size_t size) {
  if (setjmp(png_jmpbuf(st->png))) return 1;
  // Our own max_pixels check applies instead of libpng's 1,000,000 x 1,000,000 default.
  png_set_user_limits(st->png, 0x7fffffff, 0x7fffffff);
  // Chunks before the image data: any CRC error is fatal (libpng would only warn and skip a
  // bad ancillary chunk; Pillow rejects the file).
  png_set_crc_action(st->png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
  // Compressed metadata (ICC profiles, compressed text) is never used, and is where a PNG
  // decompression bomb hides: skip those chunks unread (their CRCs are still checked). What libpng
  // does buffer per chunk is capped at kMaxAncillaryChunk too.
  static const png_byte kSkipped[] = "iCCP\0zTXt\0iTXt\0tEXt\0sPLT";
  png_set_keep_unknown_chunks(st->png, PNG_HANDLE_CHUNK_NEVER, kSkipped, 5);
  png_set_chunk_malloc_max(st->png, kMaxAncillaryChunk);
  png_set_progressive_read_fn(st->png, st, PngInfoFn, PngRowFn, nullptr);
  png_process_data(st->png, st->info, const_cast<png_bytep>(data), size);
  return 0;
}

struct PngGuard {
  PngState* st;
  ~PngGuard() {
    if (st->png) png_destroy_read_struct(&st->png, st->info ? &st->info : nullptr, nullptr);
  }
};

inline png_uint_32 Be32(const uint8_t* p) {
  return (png_uint_32{p[0]} << 24) | (png_uint_32{p[1]} << 16) | (png_uint_32{p[2]} << 8) | p[3];
}

// Walks the chunk headers up to the first IDAT and refuses, as ERR_IMAGE_TOO_LARGE, an ancillary
// chunk declaring more than kMaxAncillaryChunk bytes: a tiny file may declare a 2 GB iCCP or zTXt,
// and refusing it from the header costs nothing. Structural damage is left to libpng.
void CheckChunkSizes(const uint8_t* data, size_t size) {
  size_t pos = 8;
  while (pos + 8 <= size) {
    const png_uint_32 length = Be32(data + pos);
    const uint8_t* type = data + pos + 4;
    if (std::memcmp(type, "IDAT", 4) == 0 || length > 0x7fffffffu) return;
    if ((type[0] & 0x20) != 0 && length > kMaxAncillaryChunk) {
      throw Error(codes::kImageTooLarge, "PNG " + std::string(reinterpret_cast<const char*>(type), 4) + " chunk of " +
                                             std::to_string(length) + " bytes, more than the limit of " +
                                             std::to_string(kMaxAncillaryChunk) + " for metadata");
    }
    pos += size_t{12} + length;
  }
}

}  // namespace

bool ProbePng(const uint8_t* data, size_t size, uint64_t* width, uint64_t* height) {
  // Signature, then IHDR as the first chunk (length 13, type, fields, CRC): what libpng checks
  // before anything else. Width and height are 1..2^31-1 (PNG spec; libpng enforces it).
  constexpr size_t kIhdrEnd = 8 + 4 + 4 + 13 + 4;
  if (size < kIhdrEnd || png_sig_cmp(data, 0, 8) != 0) return false;
  auto be32 = [&](size_t at) {
    return (uint32_t{data[at]} << 24) | (uint32_t{data[at + 1]} << 16) | (uint32_t{data[at + 2]} << 8) | data[at + 3];
  };
  if (be32(8) != 13 || std::memcmp(data + 12, "IHDR", 4) != 0) return false;
  const uint32_t crc = static_cast<uint32_t>(crc32(crc32(0, nullptr, 0), data + 12, 4 + 13));
  if (crc != be32(29)) return false;
  const uint32_t w = be32(16), h = be32(20);
  if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu) return false;
  *width = w;
  *height = h;
  return true;
}

DecodedImage DecodePng(const uint8_t* data, size_t size, const DecodeLimits& limits) {
  // Pre-parse IHDR (always the first chunk) to size the buffers before libpng runs.
  if (size < 33 || Be32(data + 8) != 13 || std::memcmp(data + 12, "IHDR", 4) != 0) {
    throw Error(codes::kImageDecode, "invalid PNG: missing or truncated IHDR chunk");
  }
  const png_uint_32 w = Be32(data + 16), h = Be32(data + 20);
  const int bit_depth = data[24], color_type = data[25];
  const bool interlaced = data[28] != 0;
  int samples;
  bool depth_ok;
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
      samples = 1;
      depth_ok = bit_depth == 1 || bit_depth == 2 || bit_depth == 4 || bit_depth == 8 || bit_depth == 16;
      break;
    case PNG_COLOR_TYPE_PALETTE:
      samples = 1;
      depth_ok = bit_depth == 1 || bit_depth == 2 || bit_depth == 4 || bit_depth == 8;
      break;
    case PNG_COLOR_TYPE_RGB:
      samples = 3;
      depth_ok = bit_depth == 8 || bit_depth == 16;
      break;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      samples = 2;
      depth_ok = bit_depth == 8 || bit_depth == 16;
      break;
    case PNG_COLOR_TYPE_RGB_ALPHA:
      samples = 4;
      depth_ok = bit_depth == 8 || bit_depth == 16;
      break;
    default:
      samples = 0;
      depth_ok = false;
      break;
  }
  if (!depth_ok) {
    throw Error(codes::kImageDecode, "invalid PNG: color type " + std::to_string(color_type) + " with bit depth " +
                                         std::to_string(bit_depth));
  }
  CheckDimensions(w, h, limits, "PNG");
  CheckChunkSizes(data, size);

  PngState st;
  std::memset(&st, 0, sizeof(st));
  st.width = w;
  st.height = h;
  st.bit_depth = bit_depth;
  st.color_type = color_type;
  st.interlaced = interlaced;
  st.rowbytes = bit_depth < 8 ? size_t{w} : size_t{w} * samples * (bit_depth / 8);

  DecodedImage img;
  img.width = static_cast<int>(w);
  img.height = static_cast<int>(h);
  img.channels = 3;
  img.pixels.resize(size_t{w} * h * 3);
  st.out = img.pixels.data();
  std::vector<uint8_t> raw;
  std::vector<png_bytep> rows;
  if (interlaced) {  // Adam7 needs the whole image in libpng's row format
    raw.resize(st.rowbytes * h);
    rows.resize(h);
    for (png_uint_32 y = 0; y < h; ++y) rows[y] = raw.data() + y * st.rowbytes;
    st.rows = rows.data();
  }

  st.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st, PngErrorFn, PngWarningFn);
  if (!st.png) throw Error(codes::kInternal, "png_create_read_struct failed");
  PngGuard guard{&st};
  st.info = png_create_info_struct(st.png);
  if (!st.info) throw Error(codes::kInternal, "png_create_info_struct failed");

  if (PngProcess(&st, data, size) != 0) {
    if (!st.rows_complete) {
      throw Error(codes::kImageDecode, std::string(st.info_done ? "corrupt PNG data: " : "invalid PNG: ") + st.message);
    }
  } else if (!RowsComplete(st.png, &st)) {
    throw Error(codes::kImageDecode,
                st.info_done ? "truncated PNG: image data ends before the last row" : "truncated PNG: no image data");
  }

  if (interlaced) {
    for (png_uint_32 y = 0; y < h; ++y) {
      ConvertRow(rows[y], st.out + size_t{y} * w * 3, w, color_type, bit_depth, st.palette);
    }
  }
  return img;
}

}  // namespace crossmodal::image::detail
