#include "image/exif.h"

#include <cstring>
#include <utility>
#include <vector>

namespace crossmodal::image {

namespace {

inline uint32_t Be16(const uint8_t* p) { return (uint32_t{p[0]} << 8) | p[1]; }
inline uint32_t Be32(const uint8_t* p) { return (Be16(p) << 16) | Be16(p + 2); }
inline uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

int FromJpeg(const uint8_t* d, size_t n) {
  size_t pos = 2;  // after SOI
  while (pos + 4 <= n) {
    if (d[pos] != 0xFF) return 0;
    while (pos < n && d[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= n) return 0;
    const uint8_t marker = d[pos++];
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (marker == 0xDA || marker == 0xD9) return 0;  // start of scan / end of image
    if (pos + 2 > n) return 0;
    const size_t length = Be16(d + pos);
    if (length < 2 || pos + length > n) return 0;
    const uint8_t* payload = d + pos + 2;
    const size_t payload_size = length - 2;
    if (marker == 0xE1 && payload_size >= 5 && std::memcmp(payload, "Exif\0", 5) == 0) {
      // Pillow keeps the first such segment and strips "Exif\0\0" only when both NULs are there.
      if (payload_size < 6 || payload[5] != 0) return 0;
      return ExifOrientationFromTiff(payload + 6, payload_size - 6);
    }
    pos += length;
  }
  return 0;
}

int FromPng(const uint8_t* d, size_t n) {
  size_t pos = 8;
  while (pos + 12 <= n) {
    const size_t length = Be32(d + pos);
    const uint8_t* type = d + pos + 4;
    if (length > n - pos - 12) return 0;
    if (std::memcmp(type, "eXIf", 4) == 0) return ExifOrientationFromTiff(d + pos + 8, length);
    if (std::memcmp(type, "IEND", 4) == 0) return 0;
    pos += 12 + length;
  }
  return 0;
}

int FromWebp(const uint8_t* d, size_t n) {
  size_t pos = 12;
  while (pos + 8 <= n) {
    const size_t length = Le32(d + pos + 4);
    if (length > n - pos - 8) return 0;
    if (std::memcmp(d + pos, "EXIF", 4) == 0) {
      const uint8_t* p = d + pos + 8;
      size_t size = length;
      if (size >= 6 && std::memcmp(p, "Exif\0\0", 6) == 0) {
        p += 6;
        size -= 6;
      }
      return ExifOrientationFromTiff(p, size);
    }
    pos += 8 + length + (length & 1);
  }
  return 0;
}

}  // namespace

int ExifOrientationFromTiff(const uint8_t* t, size_t n) {
  if (t == nullptr || n < 8) return 0;
  bool little;
  if (std::memcmp(t, "II*\0", 4) == 0) little = true;
  else if (std::memcmp(t, "MM\0*", 4) == 0) little = false;
  else return 0;
  auto u16 = [&](size_t off) -> uint32_t {
    return little ? (uint32_t{t[off]} | (uint32_t{t[off + 1]} << 8)) : Be16(t + off);
  };
  auto u32 = [&](size_t off) -> uint32_t { return little ? Le32(t + off) : Be32(t + off); };
  const size_t ifd = u32(4);
  if (ifd > n || n - ifd < 2) return 0;
  const size_t count = u16(ifd);
  for (size_t i = 0; i < count; ++i) {
    const size_t e = ifd + 2 + 12 * i;
    if (e > n || n - e < 12) return 0;
    if (u16(e) != 0x0112) continue;
    const uint32_t type = u16(e + 2);
    if (u32(e + 4) != 1) return 0;  // Pillow would give a tuple: not an orientation
    int64_t value;
    switch (type) {
      case 1:
        value = t[e + 8];
        break;  // BYTE
      case 6:
        value = static_cast<int8_t>(t[e + 8]);
        break;  // SBYTE
      case 3:
        value = u16(e + 8);
        break;  // SHORT
      case 8:
        value = static_cast<int16_t>(u16(e + 8));
        break;  // SSHORT
      case 4:
        value = u32(e + 8);
        break;  // LONG
      case 9:
        value = static_cast<int32_t>(u32(e + 8));
        break;  // SLONG
      default:
        return 0;
    }
    return value >= 1 && value <= 8 ? static_cast<int>(value) : 0;
  }
  return 0;
}

int ReadExifOrientation(const uint8_t* data, size_t size, ImageFormat format) {
  if (data == nullptr) return 0;
  switch (format) {
    case ImageFormat::kJpeg:
      return FromJpeg(data, size);
    case ImageFormat::kPng:
      return FromPng(data, size);
    case ImageFormat::kWebp:
      return FromWebp(data, size);
    default:
      return 0;
  }
}

void ApplyExifOrientation(DecodedImage* img, int orientation) {
  if (orientation < 2 || orientation > 8) return;
  const size_t w = static_cast<size_t>(img->width), h = static_cast<size_t>(img->height);
  const size_t c = static_cast<size_t>(img->channels);
  const bool swap = OrientationSwapsAxes(orientation);
  const size_t ow = swap ? h : w, oh = swap ? w : h;
  std::vector<uint8_t> out(img->pixels.size());
  const uint8_t* src = img->pixels.data();
  // For each output pixel (x, y), the source pixel (sx, sy) (Pillow's Transpose semantics).
  for (size_t y = 0; y < oh; ++y) {
    uint8_t* dst = out.data() + y * ow * c;
    for (size_t x = 0; x < ow; ++x, dst += c) {
      size_t sx, sy;
      switch (orientation) {
        case 2:
          sx = w - 1 - x;
          sy = y;
          break;  // FLIP_LEFT_RIGHT
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;  // ROTATE_180
        case 4:
          sx = x;
          sy = h - 1 - y;
          break;  // FLIP_TOP_BOTTOM
        case 5:
          sx = y;
          sy = x;
          break;  // TRANSPOSE
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;  // ROTATE_270 (90° clockwise)
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;  // TRANSVERSE
        default:
          sx = w - 1 - y;
          sy = x;
          break;  // 8: ROTATE_90 (90° counter-clockwise)
      }
      std::memcpy(dst, src + (sy * w + sx) * c, c);
    }
  }
  img->pixels = std::move(out);
  img->width = static_cast<int>(ow);
  img->height = static_cast<int>(oh);
  if (swap) std::swap(img->full_width, img->full_height);
}

}  // namespace crossmodal::image
