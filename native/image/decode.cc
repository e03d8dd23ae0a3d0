#include "image/decode.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "common/error.h"
#include "image/codecs_internal.h"
#include "image/exif.h"

namespace crossmodal::image {

namespace {

std::string HexPrefix(const uint8_t* data, size_t size, size_t max_bytes) {
  std::string out;
  const size_t n = size < max_bytes ? size : max_bytes;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof(buf), i ? " %02x" : "%02x", data[i]);
    out += buf;
  }
  return out;
}

// Names a few common formats we recognise but do not decode, to make the error actionable.
const char* GuessUnsupported(const uint8_t* d, size_t n) {
  if (n >= 2 && d[0] == 'B' && d[1] == 'M') return "BMP";
  if (n >= 4 && ((d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0) ||
                 (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42)))
    return "TIFF";
  if (n >= 12 && std::memcmp(d + 4, "ftyp", 4) == 0) {
    if (std::memcmp(d + 8, "avif", 4) == 0 || std::memcmp(d + 8, "avis", 4) == 0) return "AVIF";
    if (std::memcmp(d + 8, "hei", 3) == 0 || std::memcmp(d + 8, "mif1", 4) == 0 || std::memcmp(d + 8, "msf1", 4) == 0)
      return "HEIF/HEIC";
    return "ISO-BMFF (video/HEIF)";
  }
  if (n >= 12 && std::memcmp(d, "\x00\x00\x00\x0cjP  ", 8) == 0) return "JPEG 2000";
  if (n >= 4 && std::memcmp(d, "\xff\x4f\xff\x51", 4) == 0) return "JPEG 2000 codestream";
  if (n >= 2 && std::memcmp(d, "\xff\x0a", 2) == 0) return "JPEG XL";
  if (n >= 12 && std::memcmp(d, "\x00\x00\x00\x0cJXL ", 8) == 0) return "JPEG XL";
  if (n >= 4 && std::memcmp(d, "%PDF", 4) == 0) return "PDF";
  if (n >= 1 && (d[0] == '<')) return "text/SVG/HTML";
  return nullptr;
}

}  // namespace

const char* ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "jpeg";
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kWebp:
      return "webp";
    case ImageFormat::kGif:
      return "gif";
    case ImageFormat::kUnknown:
      break;
  }
  return "unknown";
}

ImageFormat SniffFormat(const uint8_t* data, size_t size) {
  if (data == nullptr) return ImageFormat::kUnknown;
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat::kJpeg;
  if (size >= 8 && std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) return ImageFormat::kPng;
  if (size >= 12 && std::memcmp(data, "RIFF", 4) == 0 && std::memcmp(data + 8, "WEBP", 4) == 0)
    return ImageFormat::kWebp;
  if (size >= 6 && (std::memcmp(data, "GIF87a", 6) == 0 || std::memcmp(data, "GIF89a", 6) == 0))
    return ImageFormat::kGif;
  return ImageFormat::kUnknown;
}

namespace detail {

void CheckDimensions(uint64_t width, uint64_t height, const DecodeLimits& limits, const char* format_name) {
  if (width == 0 || height == 0) {
    throw Error(codes::kImageDecode, std::string("invalid ") + format_name + " image: " + std::to_string(width) + "x" +
                                         std::to_string(height));
  }
  // width, height < 2^32 each, so the product cannot overflow 64 bits.
  const uint64_t pixels = width * height;
  if (pixels > limits.max_pixels) {
    throw Error(codes::kImageTooLarge, std::string(format_name) + " image is " + std::to_string(width) + "x" +
                                           std::to_string(height) + " = " + std::to_string(pixels) +
                                           " pixels, more than the limit of " + std::to_string(limits.max_pixels));
  }
  // Keep every byte offset computable in size_t and every coordinate in int.
  if (width > static_cast<uint64_t>(std::numeric_limits<int>::max()) ||
      height > static_cast<uint64_t>(std::numeric_limits<int>::max()) ||
      pixels > std::numeric_limits<size_t>::max() / 4) {
    throw Error(codes::kImageTooLarge, std::string(format_name) + " image dimensions too large");
  }
}

}  // namespace detail

int detail::JpegScaleDenominator(const DecodeOptions& options, int orientation, uint32_t width, uint32_t height) {
  if (!options.target_size) return 1;
  const bool swap = OrientationSwapsAxes(orientation);
  int tw = 0, th = 0;
  options.target_size(static_cast<int>(swap ? height : width), static_cast<int>(swap ? width : height), &tw, &th);
  if (swap) std::swap(tw, th);
  // Keep the reduced image at least twice the target, so the exact resize after it still
  // antialiases over >= 2 source pixels per output pixel. Reducing right down to the target
  // (margin 1) was measured much further from Pillow (worst max abs 1.5 on near-square 500 px
  // photos, where 1/2 scale leaves an almost 1:1 resize) for little extra speed.
  constexpr uint32_t margin = 2;
  for (uint32_t d : {8u, 4u, 2u}) {
    // libjpeg's scaled output size: ceil(size / d).
    if ((width + d - 1) / d >= margin * static_cast<uint32_t>(std::max(tw, 1)) &&
        (height + d - 1) / d >= margin * static_cast<uint32_t>(std::max(th, 1))) {
      return static_cast<int>(d);
    }
  }
  return 1;
}

bool ProbeImage(const uint8_t* data, size_t size, ImageHeader* out) {
  if (data == nullptr || size == 0 || out == nullptr) return false;
  const ImageFormat format = SniffFormat(data, size);
  uint64_t width = 0, height = 0;
  bool ok = false;
  try {
    switch (format) {
      case ImageFormat::kJpeg:
        ok = detail::ProbeJpeg(data, size, &width, &height);
        break;
      case ImageFormat::kPng:
        ok = detail::ProbePng(data, size, &width, &height);
        break;
      case ImageFormat::kWebp:
        ok = detail::ProbeWebp(data, size, &width, &height);
        break;
      case ImageFormat::kGif:
        ok = detail::ProbeGif(data, size, &width, &height);
        break;
      case ImageFormat::kUnknown:
        return false;
    }
  } catch (...) {
    return false;  // the probes do not throw; this keeps the promise if a library does
  }
  constexpr uint64_t kMaxSide = static_cast<uint64_t>(std::numeric_limits<int>::max());
  if (!ok || width == 0 || height == 0 || width > kMaxSide || height > kMaxSide) return false;
  out->format = format;
  out->width = static_cast<int>(width);
  out->height = static_cast<int>(height);
  out->orientation = ReadExifOrientation(data, size, format);
  return true;
}

DecodedImage DecodeToRgb(const uint8_t* data, size_t size, const DecodeLimits& limits, const DecodeOptions& options) {
  if (data == nullptr || size == 0) {
    throw Error(codes::kInvalidArgument, "image data is empty");
  }
  const ImageFormat format = SniffFormat(data, size);
  const int orientation = options.apply_exif_orientation ? ReadExifOrientation(data, size, format) : 0;
  DecodedImage img;
  switch (format) {
    case ImageFormat::kJpeg:
      img = detail::DecodeJpeg(data, size, limits, options, orientation);
      break;
    case ImageFormat::kPng:
      img = detail::DecodePng(data, size, limits);
      break;
    case ImageFormat::kWebp:
      img = detail::DecodeWebp(data, size, limits);
      break;
    case ImageFormat::kGif:
      img = detail::DecodeGif(data, size, limits);
      break;
    case ImageFormat::kUnknown:
      break;
  }
  if (format != ImageFormat::kUnknown) {
    ApplyExifOrientation(&img, orientation);
    return img;
  }
  std::string msg = "unrecognized image format";
  if (const char* guess = GuessUnsupported(data, size)) {
    msg += std::string(" (looks like ") + guess + ", which is not supported)";
  }
  msg += "; supported: JPEG, PNG, WebP, GIF; first bytes: " + HexPrefix(data, size, 12);
  throw Error(codes::kImageFormat, msg);
}

namespace {

// data_size == nullptr: the caller vouches for the buffer size.
DecodedImage FromPixels(const uint8_t* data, const size_t* data_size, int width, int height, int channels,
                        const DecodeLimits& limits) {
  if (data == nullptr) throw Error(codes::kInvalidArgument, "pixel data is null");
  if (width <= 0 || height <= 0) {
    throw Error(codes::kInvalidArgument,
                "invalid pixel dimensions " + std::to_string(width) + "x" + std::to_string(height));
  }
  if (channels != 1 && channels != 3 && channels != 4) {
    throw Error(codes::kInvalidArgument,
                "channels must be 1 (gray), 3 (RGB) or 4 (RGBA), got " + std::to_string(channels));
  }
  const uint64_t pixels = static_cast<uint64_t>(width) * static_cast<uint64_t>(height);
  if (pixels > limits.max_pixels || pixels > std::numeric_limits<size_t>::max() / 4) {
    throw Error(codes::kImageTooLarge, "raw image is " + std::to_string(width) + "x" + std::to_string(height) + " = " +
                                           std::to_string(pixels) + " pixels, more than the limit of " +
                                           std::to_string(limits.max_pixels));
  }
  const size_t n = static_cast<size_t>(pixels);
  const size_t expected = n * static_cast<size_t>(channels);
  if (data_size != nullptr && *data_size != expected) {
    throw Error(codes::kInvalidArgument, "pixel buffer has " + std::to_string(*data_size) + " bytes, expected " +
                                             std::to_string(width) + "*" + std::to_string(height) + "*" +
                                             std::to_string(channels) + " = " + std::to_string(expected));
  }
  DecodedImage img;
  img.width = width;
  img.height = height;
  img.channels = 3;
  img.pixels.resize(n * 3);
  uint8_t* out = img.pixels.data();
  switch (channels) {
    case 3:
      std::memcpy(out, data, n * 3);
      break;
    case 1:
      for (size_t i = 0; i < n; ++i) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = data[i];
      break;
    case 4:  // RGBA: alpha dropped without compositing, like Pillow's convert("RGB")
      for (size_t i = 0; i < n; ++i) {
        out[3 * i] = data[4 * i];
        out[3 * i + 1] = data[4 * i + 1];
        out[3 * i + 2] = data[4 * i + 2];
      }
      break;
  }
  return img;
}

}  // namespace

DecodedImage RgbFromPixels(const uint8_t* data, size_t data_size, int width, int height, int channels,
                           const DecodeLimits& limits) {
  return FromPixels(data, &data_size, width, height, channels, limits);
}

DecodedImage RgbFromPixels(const uint8_t* data, int width, int height, int channels, const DecodeLimits& limits) {
  return FromPixels(data, nullptr, width, height, channels, limits);
}

}  // namespace crossmodal::image
