// GIF decoding (first frame) with giflib, matching Pillow 9.4's GifImagePlugin + convert("RGB"):
//  * the canvas is the logical screen, enlarged to the first frame's extent if it sticks out;
//  * pixels outside the first frame are the frame's GCE transparency index if it has one,
//    otherwise index 0 (Pillow fills with the transparency index / a zeroed image);
//  * colours come from the local colour table if present, else the global one; palette entries
//    beyond the table (and images without any table) map to gray (i,i,i), Pillow's ramp;
//  * transparency never changes the colour values (convert("RGB") drops alpha).

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gif_lib.h>

#include "common/error.h"
#include "image/codecs_internal.h"

namespace crossmodal::image::detail {

namespace {

struct GifReader {
  const uint8_t* data;
  size_t size;
  size_t pos;
  bool in_image_data;  // reading the first frame's LZW sub-blocks
};

int GifReadFn(GifFileType* gif, GifByteType* out, int length) {
  auto* r = static_cast<GifReader*>(gif->UserData);
  if (length <= 0) return 0;
  if (r->pos >= r->size && length == 1 && r->in_image_data) {
    // A sub-block length byte past the end of the file reads as 0 (block terminator). If the
    // frame's pixels are all decoded this lets giflib finish a file that lacks its final
    // terminator/trailer, which Pillow accepts; if pixels are still missing giflib reports
    // "image EOF detected before image complete", as it should.
    out[0] = 0;
    return 1;
  }
  size_t n = static_cast<size_t>(length);
  if (n > r->size - r->pos) n = r->size - r->pos;
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
  return static_cast<int>(n);
}

struct GifCloser {
  void operator()(GifFileType* gif) const {
    int err = 0;
    DGifCloseFile(gif, &err);
  }
};

[[noreturn]] void ThrowGif(const char* what, int code) {
  const char* s = GifErrorString(code);
  throw Error(codes::kImageDecode, std::string(what) + ": " + (s ? s : "unknown giflib error"));
}

// Reads the records up to the first image descriptor (its geometry is then in gif->Image) and
// returns the transparency index of the last graphic control extension before it (-1: none).
// Throws ERR_IMAGE_DECODE.
int ReadToFirstFrame(GifFileType* gif) {
  int transparency = -1;
  for (;;) {
    GifRecordType type;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) ThrowGif("corrupt GIF", gif->Error);
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* ext = nullptr;
      if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR) {
        ThrowGif("corrupt GIF", gif->Error);
      }
      if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4 && (ext[1] & 1)) {
        transparency = ext[4];
      }
      while (ext) {
        if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR) {
          ThrowGif("corrupt GIF", gif->Error);
        }
      }
    } else if (type == IMAGE_DESC_RECORD_TYPE) {
      break;
    } else if (type == TERMINATE_RECORD_TYPE) {
      throw Error(codes::kImageDecode, "invalid GIF: no image in file");
    }
    // UNDEFINED_RECORD_TYPE / SCREEN_DESC_RECORD_TYPE are not returned by giflib here.
  }
  if (DGifGetImageDesc(gif) == GIF_ERROR) ThrowGif("corrupt GIF", gif->Error);
  const GifImageDesc& desc = gif->Image;
  if (desc.Left < 0 || desc.Top < 0 || desc.Width < 0 || desc.Height < 0) {
    throw Error(codes::kImageDecode, "invalid GIF frame geometry");
  }
  return transparency;
}

// Pillow's canvas: the logical screen, enlarged to the first frame's extent.
void CanvasSize(const GifFileType& gif, uint64_t* w, uint64_t* h) {
  const GifImageDesc& desc = gif.Image;
  *w = gif.SWidth > 0 ? static_cast<uint64_t>(gif.SWidth) : 0;
  *h = gif.SHeight > 0 ? static_cast<uint64_t>(gif.SHeight) : 0;
  const uint64_t right = static_cast<uint64_t>(desc.Left) + static_cast<uint64_t>(desc.Width);
  const uint64_t bottom = static_cast<uint64_t>(desc.Top) + static_cast<uint64_t>(desc.Height);
  if (right > *w) *w = right;
  if (bottom > *h) *h = bottom;
}

}  // namespace

bool ProbeGif(const uint8_t* data, size_t size, uint64_t* width, uint64_t* height) {
  GifReader reader{data, size, 0, false};
  int err = 0;
  std::unique_ptr<GifFileType, GifCloser> gif(DGifOpen(&reader, GifReadFn, &err));
  if (!gif) return false;
  try {
    ReadToFirstFrame(gif.get());
  } catch (const Error&) {
    return false;
  }
  CanvasSize(*gif, width, height);
  return true;
}

DecodedImage DecodeGif(const uint8_t* data, size_t size, const DecodeLimits& limits) {
  GifReader reader{data, size, 0, false};
  int err = 0;
  std::unique_ptr<GifFileType, GifCloser> gif(DGifOpen(&reader, GifReadFn, &err));
  if (!gif) ThrowGif("invalid GIF", err);
  // The logical screen is the least the canvas will be (CanvasSize): a screen beyond maxPixels is
  // refused from the 13-byte header, before the frame records are read.
  if (gif->SWidth > 0 && gif->SHeight > 0) {
    CheckDimensions(static_cast<uint64_t>(gif->SWidth), static_cast<uint64_t>(gif->SHeight), limits, "GIF");
  }

  const int transparency = ReadToFirstFrame(gif.get());
  const GifImageDesc& desc = gif->Image;
  const uint64_t fx0 = static_cast<uint64_t>(desc.Left), fy0 = static_cast<uint64_t>(desc.Top);
  const uint64_t fw = static_cast<uint64_t>(desc.Width), fh = static_cast<uint64_t>(desc.Height);
  uint64_t w = 0, h = 0;
  CanvasSize(*gif, &w, &h);
  CheckDimensions(w, h, limits, "GIF");

  uint8_t palette[256 * 3];
  for (int i = 0; i < 256; ++i) {
    palette[3 * i] = palette[3 * i + 1] = palette[3 * i + 2] = static_cast<uint8_t>(i);
  }
  const ColorMapObject* cmap = desc.ColorMap ? desc.ColorMap : gif->SColorMap;
  if (cmap && cmap->Colors) {
    const int n = cmap->ColorCount < 256 ? cmap->ColorCount : 256;
    for (int i = 0; i < n; ++i) {
      palette[3 * i] = cmap->Colors[i].Red;
      palette[3 * i + 1] = cmap->Colors[i].Green;
      palette[3 * i + 2] = cmap->Colors[i].Blue;
    }
  }

  DecodedImage img;
  img.width = static_cast<int>(w);
  img.height = static_cast<int>(h);
  img.channels = 3;
  const size_t stride = static_cast<size_t>(w) * 3;
  img.pixels.resize(stride * static_cast<size_t>(h));
  uint8_t* out = img.pixels.data();
  const uint8_t* fill = palette + 3 * (transparency >= 0 ? transparency : 0);
  if (fill[0] == fill[1] && fill[1] == fill[2]) {
    std::memset(out, fill[0], img.pixels.size());
  } else {
    for (size_t i = 0; i < static_cast<size_t>(w) * h; ++i) std::memcpy(out + 3 * i, fill, 3);
  }

  if (fw > 0 && fh > 0) {
    reader.in_image_data = true;
    std::vector<GifPixelType> line(fw);
    // Interlaced frames store rows in 4 passes: every 8th from 0, every 8th from 4, every
    // 4th from 2, every 2nd from 1.
    static constexpr int kStart[4] = {0, 4, 2, 1}, kStep[4] = {8, 8, 4, 2};
    int pass = 0;
    uint64_t y = 0;
    for (uint64_t i = 0; i < fh; ++i) {
      if (desc.Interlace) {
        while (y >= fh && pass < 3) {  // advance to the next pass that has rows
          ++pass;
          y = static_cast<uint64_t>(kStart[pass]);
        }
      } else {
        y = i;
      }
      if (y >= fh) throw Error(codes::kInternal, "GIF interlace bookkeeping error");
      if (DGifGetLine(gif.get(), line.data(), static_cast<int>(fw)) == GIF_ERROR) {
        ThrowGif("corrupt GIF data", gif->Error);
      }
      uint8_t* row = out + (fy0 + y) * stride + fx0 * 3;
      for (uint64_t x = 0; x < fw; ++x) std::memcpy(row + 3 * x, palette + 3 * line[x], 3);
      if (desc.Interlace) y += static_cast<uint64_t>(kStep[pass]);
    }
  }
  return img;
}

}  // namespace crossmodal::image::detail
