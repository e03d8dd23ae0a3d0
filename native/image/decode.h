// Image decoding to 8-bit RGB, matching Pillow 9.4's `Image.open(f).convert("RGB")` pixel for
// pixel. JPEG/WebP pixels are those of the linked libjpeg-turbo/libwebp: identical to Pillow's
// when both use the same library versions (verified on Debian 12, where they do).
//
// Pure C++ (no Napi); thread-safe (no global mutable state) and safe on untrusted input: every
// failure is reported as a crossmodal::Error, never a crash or an exit.
//
// Error codes:
//   ERR_INVALID_ARGUMENT  null/empty input, bad dimensions for RgbFromPixels
//   ERR_IMAGE_FORMAT      unrecognised magic bytes (the message names the first bytes and, when
//                         recognisable, the format: BMP, TIFF, HEIC, AVIF, ...), or a
//                         supported container with an unsupported variant (12-bit JPEG,
//                         2-component JPEG)
//   ERR_IMAGE_TOO_LARGE   width * height > DecodeLimits::max_pixels (checked from the header,
//                         before any pixel buffer is allocated)
//   ERR_IMAGE_DECODE      corrupt or truncated data
//
// Truncation follows Pillow (without ImageFile.LOAD_TRUNCATED_IMAGES): data that ends before
// the last pixel row is an error; damage after it (missing EOI/IEND/trailer, truncated final
// CRC) is accepted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "image/decoded_image.h"

namespace crossmodal::image {

enum class ImageFormat { kUnknown = 0, kJpeg, kPng, kWebp, kGif };

// "jpeg", "png", "webp", "gif" or "unknown".
const char* ImageFormatName(ImageFormat format);

struct DecodeLimits {
  // Maximum width * height of the decoded image (for GIF: of the logical screen, enlarged to
  // the first frame's extent as Pillow does).
  uint64_t max_pixels = 100'000'000;
};

struct DecodeOptions {
  // Apply the EXIF Orientation tag like Pillow's ImageOps.exif_transpose (see image/exif.h).
  // Off by default here, matching Pillow's Image.open(); the model pipeline turns it on.
  bool apply_exif_orientation = false;
  // JPEG DCT-domain downscaling (libjpeg-turbo scale_denom 2, 4 or 8). When set, it is called
  // with the image's full size (after orientation) and returns the size the image will be
  // resized to; the JPEG decoder then decodes at the smallest of 1/2, 1/4, 1/8 whose result is
  // still at least twice that size in both dimensions, and records the full size in
  // DecodedImage::full_width/full_height. Other formats ignore it.
  std::function<void(int width, int height, int* target_width, int* target_height)> target_size;
};

// Identifies the container from its magic bytes. Never throws; kUnknown for null/short input.
ImageFormat SniffFormat(const uint8_t* data, size_t size);

// What an encoded image's headers say (ProbeImage).
struct ImageHeader {
  ImageFormat format = ImageFormat::kUnknown;
  // The size DecodeToRgb would produce without EXIF orientation (Pillow's Image.open().size):
  // for GIF the logical screen enlarged to the first frame.
  int width = 0;
  int height = 0;
  int orientation = 0;  // the EXIF Orientation tag (1..8), 0 when there is none (see exif.h)
};

// Reads format, size and orientation from the headers only, with the decoders' own parsing
// (libjpeg's jpeg_read_header, the PNG IHDR chunk and its CRC, libwebp's WebPGetFeatures, giflib
// up to the first image descriptor); no pixel data is read or decoded, so it is cheap enough for
// the JS thread. Never throws: false for an unknown format or headers that are cut short or
// invalid. A file whose headers are intact but whose pixel data is damaged or missing still
// probes (DecodeToRgb then fails).
bool ProbeImage(const uint8_t* data, size_t size, ImageHeader* out);

// Decodes the first image in `data` to 3-channel RGB. See the file comment for error codes.
//  JPEG: libjpeg-turbo, JDCT_ISLOW + fancy upsampling (Pillow's defaults); grayscale is
//        replicated; 4-component (CMYK/YCCK) data is treated as Adobe-inverted CMYK and
//        converted with Pillow's cmyk2rgb. EXIF orientation is applied only when
//        options.apply_exif_orientation is set (Pillow's open() does not apply it). libjpeg's recoverable "Corrupt JPEG
//        data" warnings are ignored, as in Pillow. Progressive files with more than 100 scans are rejected
//        (decompression-bomb guard; Pillow has none).
//  PNG:  libpng; palette via PLTE (indices past the end of PLTE map to gray i,i,i like
//        Pillow), tRNS and alpha dropped (no compositing), 16-bit RGB(A)/LA keep the high
//        byte, 16-bit grayscale is clamped to 0..255 (Pillow's I -> RGB), 1/2/4-bit gray is
//        scaled to 0..255, interlaced supported. Gamma/iCCP/sBIT are ignored (as in Pillow).
//  WebP: libwebp (alpha dropped, no compositing). Animated: the first frame on a black canvas,
//        as Pillow's WebPAnimDecoder renders it.
//  GIF:  giflib, first frame only, Pillow semantics: canvas = logical screen enlarged to the
//        frame, pixels outside the frame take the GCE transparency index if any else index 0,
//        palette = local colour table else global, missing entries map to gray (i,i,i).
DecodedImage DecodeToRgb(const uint8_t* data, size_t size, const DecodeLimits& limits = {},
                         const DecodeOptions& options = {});

// Wraps raw interleaved pixels (row-major, no row padding) as RGB: channels 1 (gray,
// replicated), 3 (RGB, copied) or 4 (RGBA, alpha dropped without compositing).
// Throws ERR_INVALID_ARGUMENT on null data, non-positive dimensions or a bad channel count,
// ERR_IMAGE_TOO_LARGE if width * height > limits.max_pixels.
DecodedImage RgbFromPixels(const uint8_t* data, int width, int height, int channels, const DecodeLimits& limits = {});
// Same, additionally checking that the buffer holds exactly width*height*channels bytes
// (ERR_INVALID_ARGUMENT otherwise). Prefer this one when the buffer size is known.
DecodedImage RgbFromPixels(const uint8_t* data, size_t data_size, int width, int height, int channels,
                           const DecodeLimits& limits = {});

}  // namespace crossmodal::image
