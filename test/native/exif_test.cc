// EXIF orientation: reading the tag from JPEG, PNG and WebP fixtures and applying it like
// Pillow's ImageOps.exif_transpose.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "image/decode.h"
#include "image/exif.h"
#include "image/preprocess_config.h"
#include "image/resample.h"
#include "test_support.h"

namespace crossmodal::image {
namespace {

using crossmodal::testing::ReadFixture;

DecodedImage Decode(const std::string& file, bool apply_orientation) {
  std::vector<uint8_t> bytes = ReadFixture("images/" + file);
  DecodeOptions options;
  options.apply_exif_orientation = apply_orientation;
  return DecodeToRgb(bytes.data(), bytes.size(), {}, options);
}

int OrientationOf(const std::string& file) {
  std::vector<uint8_t> bytes = ReadFixture("images/" + file);
  return ReadExifOrientation(bytes.data(), bytes.size(), SniffFormat(bytes.data(), bytes.size()));
}

double MeanAbsDiff(const DecodedImage& a, const DecodedImage& b) {
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) sum += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
  return sum / static_cast<double>(a.pixels.size());
}

TEST(Exif, ReadsTheOrientationTagOfEachFormat) {
  for (int n = 1; n <= 8; ++n) {
    EXPECT_EQ(OrientationOf("jpeg_exif_orientation_" + std::to_string(n) + ".jpg"), n);
  }
  EXPECT_EQ(OrientationOf("png_exif_orientation_6.png"), 6);
  EXPECT_EQ(OrientationOf("webp_exif_orientation_8.webp"), 8);
  // No EXIF block at all.
  EXPECT_EQ(OrientationOf("png_rgb_333x217.png"), 0);
  EXPECT_EQ(OrientationOf("gif_palette_200x150.gif"), 0);
}

// Each orientation fixture stores the same pixels with a different Orientation tag. Decoded with
// the tag applied, then resized and cropped with the CLIP config, every one must match Pillow's
// exif_transpose + resize + crop (test/fixtures/images/reference, written by
// tools/dev/generate_image_fixtures.py). JPEG pixels come from the same libjpeg-turbo as Pillow's; the
// tolerance of one level is the one the JS fidelity suite allows.
void ExpectOrientedLikePillow(const std::string& file, int orientation) {
  SCOPED_TRACE(file);
  const DecodedImage raw = Decode(file, false);
  const DecodedImage applied = Decode(file, true);
  if (OrientationSwapsAxes(orientation)) {
    EXPECT_EQ(applied.width, raw.height);
    EXPECT_EQ(applied.height, raw.width);
  } else {
    EXPECT_EQ(applied.width, raw.width);
    EXPECT_EQ(applied.height, raw.height);
  }
  std::ifstream config_in(crossmodal::testing::FixturePath("images/configs/clip.json"));
  const PreprocessConfig cfg = ParsePreprocessConfig(nlohmann::json::parse(config_in));
  int rw = 0, rh = 0, ow = 0, oh = 0;
  cfg.ResizedSizeFor(applied.width, applied.height, &rw, &rh);
  cfg.OutputSizeFor(applied.width, applied.height, &ow, &oh);
  std::vector<uint8_t> crop(static_cast<size_t>(ow) * oh * 3);
  ResampleWindow(applied.pixels.data(), applied.width, applied.height, 3, rw, rh, (rw - ow) / 2, (rh - oh) / 2, ow, oh,
                 cfg.resample, crop.data(), static_cast<size_t>(ow) * 3);
  const DecodedImage ref = Decode("reference/" + file + ".clip.png", false);
  ASSERT_EQ(ref.pixels.size(), crop.size());
  int max_diff = 0;
  double sum = 0;
  for (size_t i = 0; i < crop.size(); ++i) {
    const int d = std::abs(int(crop[i]) - int(ref.pixels[i]));
    max_diff = std::max(max_diff, d);
    sum += d;
  }
  EXPECT_LE(max_diff, 1);
  EXPECT_LT(sum / static_cast<double>(crop.size()), 0.05);
}

TEST(Exif, AppliedOrientationMatchesPillowExifTranspose) {
  for (int n = 1; n <= 8; ++n) ExpectOrientedLikePillow("jpeg_exif_orientation_" + std::to_string(n) + ".jpg", n);
  ExpectOrientedLikePillow("png_exif_orientation_6.png", 6);
  ExpectOrientedLikePillow("webp_exif_orientation_8.webp", 8);
}

TEST(Exif, OrientationOffLeavesStoredPixels) {
  // The eight JPEG fixtures share their stored pixels: without the tag they decode identically.
  const DecodedImage first = Decode("jpeg_exif_orientation_1.jpg", false);
  for (int n = 2; n <= 8; ++n) {
    EXPECT_EQ(Decode("jpeg_exif_orientation_" + std::to_string(n) + ".jpg", false).pixels, first.pixels) << n;
    // Applied, orientations 2..8 really change the pixels (same count, different order).
    EXPECT_GT(MeanAbsDiff(Decode("jpeg_exif_orientation_" + std::to_string(n) + ".jpg", true), first), 1.0) << n;
  }
}

// 3 x 2 image whose pixels are numbered 0..5 row by row (one channel).
DecodedImage Numbered() {
  DecodedImage img;
  img.width = 3;
  img.height = 2;
  img.channels = 1;
  img.pixels = {0, 1, 2, 3, 4, 5};
  return img;
}

struct Expected {
  int orientation;
  int width, height;
  std::vector<uint8_t> pixels;
};

TEST(Exif, TransposesLikeExifTranspose) {
  // Pillow: 2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270,
  // 7 TRANSVERSE, 8 ROTATE_90 (counter-clockwise angles).
  const std::vector<Expected> cases = {
      {1, 3, 2, {0, 1, 2, 3, 4, 5}}, {2, 3, 2, {2, 1, 0, 5, 4, 3}}, {3, 3, 2, {5, 4, 3, 2, 1, 0}},
      {4, 3, 2, {3, 4, 5, 0, 1, 2}}, {5, 2, 3, {0, 3, 1, 4, 2, 5}}, {6, 2, 3, {3, 0, 4, 1, 5, 2}},
      {7, 2, 3, {5, 2, 4, 1, 3, 0}}, {8, 2, 3, {2, 5, 1, 4, 0, 3}},
  };
  for (const Expected& c : cases) {
    DecodedImage img = Numbered();
    ApplyExifOrientation(&img, c.orientation);
    EXPECT_EQ(img.width, c.width) << c.orientation;
    EXPECT_EQ(img.height, c.height) << c.orientation;
    EXPECT_EQ(img.pixels, c.pixels) << c.orientation;
  }
  DecodedImage untouched = Numbered();
  ApplyExifOrientation(&untouched, 9);
  EXPECT_EQ(untouched.pixels, Numbered().pixels);
}

TEST(Exif, MalformedTiffMeansNoOrientation) {
  const uint8_t truncated[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01};
  EXPECT_EQ(ExifOrientationFromTiff(truncated, sizeof truncated), 0);
  const uint8_t garbage[] = {'X', 'X', 0, 0};
  EXPECT_EQ(ExifOrientationFromTiff(garbage, sizeof garbage), 0);
  EXPECT_EQ(ExifOrientationFromTiff(nullptr, 0), 0);
  // A well-formed little-endian block: one IFD entry, tag 0x0112 SHORT count 1 value 6.
  const uint8_t six[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(ExifOrientationFromTiff(six, sizeof six), 6);
}

}  // namespace
}  // namespace crossmodal::image
