// EXIF orientation: reading the Orientation tag (0x0112) from encoded images and applying it the
// way Pillow 9.4's ImageOps.exif_transpose does.
//
// Where the tag is read from (Pillow's `info["exif"]` for each format):
//   JPEG  the first APP1 segment starting with "Exif\0" (before the first SOS)
//   PNG   the eXIf chunk (anywhere before IEND; Pillow reads late chunks on load)
//   WebP  the EXIF chunk (a leading "Exif\0\0" is skipped, as Pillow's Exif.load does)
//   GIF   none
// Not read (Pillow falls back to them): PNG "Raw profile type exif" text chunks and the XMP
// tiff:Orientation attribute.
//
// Pure C++, never throws on malformed metadata: anything unparsable means "no orientation".
#pragma once

#include <cstddef>
#include <cstdint>

#include "image/decode.h"
#include "image/decoded_image.h"

namespace crossmodal::image {

// The EXIF Orientation value (1..8) of `data`, or 0 when there is none (or it is malformed or
// outside 1..8).
int ReadExifOrientation(const uint8_t* data, size_t size, ImageFormat format);

// The Orientation value found in a TIFF/EXIF block (starting at the "II*\0" / "MM\0*" header),
// or 0.
int ExifOrientationFromTiff(const uint8_t* tiff, size_t size);

// True for orientations 5..8, which swap width and height.
inline bool OrientationSwapsAxes(int orientation) { return orientation >= 5 && orientation <= 8; }

// Transposes `img` (any channel count) in place like exif_transpose: 2 FLIP_LEFT_RIGHT,
// 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270, 7 TRANSVERSE, 8 ROTATE_90.
// Other values leave the image unchanged.
void ApplyExifOrientation(DecodedImage* img, int orientation);

}  // namespace crossmodal::image
