// WebP decoding with libwebp. Pillow 9.4 decodes every WebP through WebPAnimDecoder (RGBA, not
// premultiplied) and reports mode RGB or RGBA; its colour channels are exactly what decoding
// with MODE_RGB produces, and convert("RGB") drops alpha without compositing.
//
// Animated WebP: only libwebp's core decoder is linked (not libwebpdemux), so the first frame
// is located by walking the RIFF chunks ourselves. WebPAnimDecoder renders the first frame
// (always a key frame) onto a zero-filled (transparent black) canvas without blending, so we do
// the same: canvas = (0,0,0), first ANMF frame decoded into its rectangle.

#include <cstdint>
#include <cstring>
#include <string>

#include <webp/decode.h>

#include "common/error.h"
#include "image/codecs_internal.h"

namespace crossmodal::image::detail {

namespace {

const char* StatusText(VP8StatusCode s) {
  switch (s) {
    case VP8_STATUS_OK:
      return "ok";
    case VP8_STATUS_OUT_OF_MEMORY:
      return "out of memory";
    case VP8_STATUS_INVALID_PARAM:
      return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR:
      return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
      return "unsupported feature";
    case VP8_STATUS_SUSPENDED:
      return "suspended";
    case VP8_STATUS_USER_ABORT:
      return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA:
      return "not enough data (truncated file)";
  }
  return "unknown error";
}

inline uint32_t Le24(const uint8_t* p) { return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16); }
inline uint32_t Le32(const uint8_t* p) { return Le24(p) | (uint32_t{p[3]} << 24); }

// Decodes `data` (a complete WebP file, or an ANMF frame payload) as RGB into `out`.
void DecodeInto(const uint8_t* data, size_t size, uint8_t* out, size_t out_size, size_t stride) {
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) {
    throw Error(codes::kInternal, "libwebp version mismatch");
  }
  config.output.colorspace = MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = out;
  config.output.u.RGBA.stride = static_cast<int>(stride);
  config.output.u.RGBA.size = out_size;
  const VP8StatusCode status = WebPDecode(data, size, &config);
  WebPFreeDecBuffer(&config.output);  // no-op for external memory, but keeps the API contract
  if (status != VP8_STATUS_OK) {
    throw Error(codes::kImageDecode, std::string("corrupt WebP data: ") + StatusText(status));
  }
}

// Finds the first ANMF chunk; sets *frame / *frame_size to its payload. Like WebPDemux, requires
// an ANIM chunk before it.
bool FindFirstFrame(const uint8_t* data, const uint8_t** frame, size_t* frame_size) {
  const size_t riff_end = size_t{Le32(data + 4)} + 8;  // CheckRiffComplete: <= size
  bool seen_anim = false;
  size_t pos = 12;
  while (pos + 8 <= riff_end) {
    const uint8_t* tag = data + pos;
    const size_t len = Le32(data + pos + 4);
    if (len > riff_end - pos - 8) return false;  // truncated chunk
    if (std::memcmp(tag, "ANIM", 4) == 0) seen_anim = true;
    if (std::memcmp(tag, "ANMF", 4) == 0) {
      if (!seen_anim) return false;
      *frame = data + pos + 8;
      *frame_size = len;
      return true;
    }
    pos += 8 + len + (len & 1);
  }
  return false;
}

// Pillow parses every WebP with WebPDemux, which rejects a file shorter than its RIFF header
// says or with an incomplete chunk; WebPDecode alone would accept some of those.
void CheckRiffComplete(const uint8_t* data, size_t size) {
  const size_t riff_size = Le32(data + 4);  // SniffFormat guaranteed >= 12 bytes
  if (riff_size < 4 || riff_size > size - 8) {
    throw Error(codes::kImageDecode, "truncated WebP file (RIFF size " + std::to_string(riff_size) + ", " +
                                         std::to_string(size - 8) + " bytes present)");
  }
  const size_t riff_end = riff_size + 8;
  size_t pos = 12;
  while (pos < riff_end) {
    if (riff_end - pos < 8) throw Error(codes::kImageDecode, "truncated WebP chunk header");
    const size_t len = Le32(data + pos + 4);
    if (len > riff_end - pos - 8) throw Error(codes::kImageDecode, "truncated WebP chunk");
    pos += 8 + len + (len & 1);
  }
}

}  // namespace

bool ProbeWebp(const uint8_t* data, size_t size, uint64_t* width, uint64_t* height) {
  // The canvas size (VP8X) or the bitstream's (VP8 / VP8L), as DecodeWebp uses it.
  WebPBitstreamFeatures features;
  if (WebPGetFeatures(data, size, &features) != VP8_STATUS_OK) return false;
  if (features.width <= 0 || features.height <= 0) return false;
  *width = static_cast<uint64_t>(features.width);
  *height = static_cast<uint64_t>(features.height);
  return true;
}

// The size the first chunk declares (VP8X canvas, VP8 frame or VP8L header), read before libwebp
// parses anything: WebPGetFeatures reports a VP8X canvas of 2^32 pixels or more as a bitstream
// error, and a tiny truncated file may declare any size. False when there is no such header.
bool DeclaredWebpSize(const uint8_t* data, size_t size, uint64_t* width, uint64_t* height) {
  if (size < 30) return false;
  const uint8_t* tag = data + 12;
  const uint8_t* p = data + 20;  // chunk payload
  if (std::memcmp(tag, "VP8X", 4) == 0) {
    *width = uint64_t{Le24(p + 4)} + 1;
    *height = uint64_t{Le24(p + 7)} + 1;
    return true;
  }
  if (std::memcmp(tag, "VP8 ", 4) == 0 && p[3] == 0x9d && p[4] == 0x01 && p[5] == 0x2a) {
    *width = (uint32_t{p[6]} | (uint32_t{p[7]} << 8)) & 0x3fff;
    *height = (uint32_t{p[8]} | (uint32_t{p[9]} << 8)) & 0x3fff;
    return true;
  }
  if (std::memcmp(tag, "VP8L", 4) == 0 && p[0] == 0x2f) {
    const uint32_t bits = Le32(p + 1);
    *width = uint64_t{bits & 0x3fff} + 1;
    *height = uint64_t{(bits >> 14) & 0x3fff} + 1;
    return true;
  }
  return false;
}

DecodedImage DecodeWebp(const uint8_t* data, size_t size, const DecodeLimits& limits) {
  // Decompression-bomb guard first: a declared size beyond maxPixels is ERR_IMAGE_TOO_LARGE even
  // when the rest of the file is missing or libwebp would call the header invalid.
  uint64_t declared_w = 0, declared_h = 0;
  if (DeclaredWebpSize(data, size, &declared_w, &declared_h) && declared_w > 0 && declared_h > 0) {
    CheckDimensions(declared_w, declared_h, limits, "WebP");
  }
  CheckRiffComplete(data, size);
  WebPBitstreamFeatures features;
  const VP8StatusCode status = WebPGetFeatures(data, size, &features);
  if (status != VP8_STATUS_OK) {
    throw Error(codes::kImageDecode, std::string("invalid WebP: ") + StatusText(status));
  }
  if (features.width <= 0 || features.height <= 0) {
    throw Error(codes::kImageDecode, "invalid WebP dimensions");
  }
  CheckDimensions(static_cast<uint64_t>(features.width), static_cast<uint64_t>(features.height), limits, "WebP");

  DecodedImage img;
  img.width = features.width;
  img.height = features.height;
  img.channels = 3;
  const size_t stride = static_cast<size_t>(img.width) * 3;
  if (stride > static_cast<size_t>(INT32_MAX)) {
    throw Error(codes::kImageTooLarge, "WebP row too large");
  }
  img.pixels.resize(stride * static_cast<size_t>(img.height));

  if (!features.has_animation) {
    DecodeInto(data, size, img.pixels.data(), img.pixels.size(), stride);
    return img;
  }

  // Animated: first frame on a zero canvas (features.width/height are the canvas size).
  const uint8_t* frame = nullptr;
  size_t frame_size = 0;
  if (!FindFirstFrame(data, &frame, &frame_size) || frame_size < 16) {
    throw Error(codes::kImageDecode, "corrupt animated WebP: no ANIM chunk or no first frame");
  }
  // ANMF header: X/2, Y/2, width-1, height-1 (24 bits each), duration, flags. WebPDemux takes
  // the frame size from the frame's bitstream, not from these fields, and checks it against
  // the canvas; so do we.
  const uint64_t fx = 2 * uint64_t{Le24(frame)}, fy = 2 * uint64_t{Le24(frame + 3)};
  const uint8_t* bits = frame + 16;
  const size_t bits_size = frame_size - 16;
  WebPBitstreamFeatures ff;
  const VP8StatusCode fstatus = WebPGetFeatures(bits, bits_size, &ff);
  if (fstatus != VP8_STATUS_OK) {
    throw Error(codes::kImageDecode, std::string("corrupt animated WebP frame: ") + StatusText(fstatus));
  }
  const uint64_t fw = static_cast<uint64_t>(ff.width), fh = static_cast<uint64_t>(ff.height);
  if (fx + fw > static_cast<uint64_t>(img.width) || fy + fh > static_cast<uint64_t>(img.height)) {
    throw Error(codes::kImageDecode, "corrupt animated WebP: first frame outside the canvas");
  }
  std::memset(img.pixels.data(), 0, img.pixels.size());
  const size_t offset = static_cast<size_t>(fy) * stride + static_cast<size_t>(fx) * 3;
  DecodeInto(bits, bits_size, img.pixels.data() + offset, img.pixels.size() - offset, stride);
  return img;
}

}  // namespace crossmodal::image::detail
