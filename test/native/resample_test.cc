// Resampling: bit-exact agreement with Pillow 9.4's Image.resize on the image fixtures, whose
// references (test/fixtures/images/reference/*.png) are Pillow's resized and center-cropped
// uint8 images, written by tools/dev/generate_image_fixtures.py.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "image/decode.h"
#include "image/preprocess_config.h"
#include "image/resample.h"
#include "test_support.h"

namespace crossmodal::image {
namespace {

using crossmodal::testing::ErrorCodeOf;
using crossmodal::testing::FixturePath;
using crossmodal::testing::ReadFixture;

PreprocessConfig LoadConfig(const std::string& name) {
  std::ifstream in(FixturePath("images/configs/" + name + ".json"));
  return ParsePreprocessConfig(nlohmann::json::parse(in));
}

DecodedImage DecodeFixture(const std::string& file) {
  std::vector<uint8_t> bytes = ReadFixture("images/" + file);
  return DecodeToRgb(bytes.data(), bytes.size());
}

// Resize (Resample) then center crop, the way HF's processor does it, compared byte for byte
// with Pillow's result. Lossless sources only: their decoded pixels are Pillow's.
void ExpectMatchesPillow(const std::string& file, const std::string& config_name) {
  SCOPED_TRACE(file + " / " + config_name);
  const PreprocessConfig cfg = LoadConfig(config_name);
  const DecodedImage src = DecodeFixture(file);
  int rw = 0, rh = 0;
  cfg.ResizedSizeFor(src.width, src.height, &rw, &rh);
  const DecodedImage resized = Resample(src, rw, rh, cfg.resample);
  const DecodedImage ref = DecodeFixture("reference/" + file + "." + config_name + ".png");
  int ow = 0, oh = 0;
  cfg.OutputSizeFor(src.width, src.height, &ow, &oh);
  ASSERT_EQ(ref.width, ow);
  ASSERT_EQ(ref.height, oh);
  // Center crop (top = (h - crop_h) // 2, left = (w - crop_w) // 2); the fixtures chosen here are
  // at least as large as the crop after resizing, so there is no padding.
  ASSERT_GE(rw, ow);
  ASSERT_GE(rh, oh);
  const int top = (rh - oh) / 2, left = (rw - ow) / 2;
  size_t mismatches = 0;
  for (int y = 0; y < oh; ++y) {
    const uint8_t* got = resized.pixels.data() + (static_cast<size_t>(y + top) * rw + left) * 3;
    const uint8_t* want = ref.pixels.data() + static_cast<size_t>(y) * ow * 3;
    for (int i = 0; i < ow * 3; ++i) mismatches += got[i] != want[i];
  }
  EXPECT_EQ(mismatches, 0u);

  // ResampleWindow computes the same crop directly.
  std::vector<uint8_t> window(static_cast<size_t>(ow) * oh * 3);
  ResampleWindow(src.pixels.data(), src.width, src.height, 3, rw, rh, left, top, ow, oh, cfg.resample, window.data(),
                 static_cast<size_t>(ow) * 3);
  EXPECT_EQ(window, ref.pixels);
}

TEST(Resample, BicubicMatchesPillowOnPngRgb) { ExpectMatchesPillow("png_rgb_333x217.png", "clip"); }
TEST(Resample, BicubicMatchesPillowOnPngPalette) { ExpectMatchesPillow("png_palette_333x217.png", "clip"); }
TEST(Resample, BicubicMatchesPillowOnPngGray) { ExpectMatchesPillow("png_gray_333x217.png", "clip"); }
TEST(Resample, SiglipFixedResizeMatchesPillow) { ExpectMatchesPillow("png_rgb_333x217.png", "siglip"); }
TEST(Resample, MatchesPillowOnLosslessWebp) { ExpectMatchesPillow("webp_lossless_301x201.webp", "clip"); }

TEST(Resample, SameSizeIsACopy) {
  const DecodedImage src = DecodeFixture("png_rgb16_61x37.png");
  for (Filter f : {Filter::kNearest, Filter::kBilinear, Filter::kBicubic, Filter::kLanczos}) {
    EXPECT_EQ(Resample(src, src.width, src.height, f).pixels, src.pixels) << FilterName(f);
  }
}

TEST(Resample, ConstantImageStaysConstant) {
  // Filters are normalised: a flat image resizes to the same flat value with every filter.
  DecodedImage flat;
  flat.width = 37;
  flat.height = 23;
  flat.channels = 3;
  flat.pixels.assign(37 * 23 * 3, 0);
  for (size_t i = 0; i < flat.pixels.size(); i += 3) {
    flat.pixels[i] = 200;
    flat.pixels[i + 1] = 17;
    flat.pixels[i + 2] = 255;
  }
  for (Filter f :
       {Filter::kNearest, Filter::kBox, Filter::kBilinear, Filter::kHamming, Filter::kBicubic, Filter::kLanczos}) {
    for (auto [w, h] : {std::pair{11, 7}, std::pair{90, 50}}) {
      const DecodedImage out = Resample(flat, w, h, f);
      ASSERT_EQ(out.pixels.size(), static_cast<size_t>(w) * h * 3);
      for (size_t i = 0; i < out.pixels.size(); i += 3) {
        ASSERT_EQ(out.pixels[i], 200) << FilterName(f);
        ASSERT_EQ(out.pixels[i + 1], 17) << FilterName(f);
        ASSERT_EQ(out.pixels[i + 2], 255) << FilterName(f);
      }
    }
  }
}

TEST(Resample, PillowCodes) {
  Filter f;
  ASSERT_TRUE(FilterFromPillowCode(3, &f));
  EXPECT_EQ(f, Filter::kBicubic);
  ASSERT_TRUE(FilterFromPillowCode(1, &f));
  EXPECT_EQ(f, Filter::kLanczos);
  EXPECT_FALSE(FilterFromPillowCode(6, &f));
  EXPECT_FALSE(FilterFromPillowCode(-1, &f));
}

TEST(Resample, RejectsBadArguments) {
  uint8_t src[12] = {}, dst[12] = {};
  EXPECT_EQ(ErrorCodeOf([&] { Resample(src, 2, 2, 3, dst, 0, 2, Filter::kBicubic); }), "ERR_INVALID_ARGUMENT");
  EXPECT_EQ(ErrorCodeOf([&] { Resample(src, 2, 2, 5, dst, 2, 2, Filter::kBicubic); }), "ERR_INVALID_ARGUMENT");
  EXPECT_EQ(ErrorCodeOf([&] { Resample(nullptr, 2, 2, 3, dst, 2, 2, Filter::kBicubic); }), "ERR_INVALID_ARGUMENT");
}

}  // namespace
}  // namespace crossmodal::image
