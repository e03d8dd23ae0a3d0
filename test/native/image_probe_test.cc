// ProbeImage: the headers' format, size and orientation agree with what DecodeToRgb produces, for
// every image fixture; cut-short headers and garbage probe as nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "image/decode.h"
#include "image/exif.h"
#include "test_support.h"

namespace crossmodal::image {
namespace {

using crossmodal::testing::FixturePath;
using crossmodal::testing::ReadFixture;

std::vector<std::string> ImageFixtures() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(FixturePath("images"))) {
    const std::string ext = entry.path().extension().string();
    if (ext == ".jpg" || ext == ".png" || ext == ".webp" || ext == ".gif") files.push_back(entry.path().filename());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ImageProbe, AgreesWithTheDecoderOnEveryFixture) {
  const std::vector<std::string> files = ImageFixtures();
  ASSERT_GE(files.size(), 30u);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const std::vector<uint8_t> bytes = ReadFixture("images/" + file);
    ImageHeader header;
    ASSERT_TRUE(ProbeImage(bytes.data(), bytes.size(), &header));
    EXPECT_EQ(header.format, SniffFormat(bytes.data(), bytes.size()));
    EXPECT_EQ(header.orientation, ReadExifOrientation(bytes.data(), bytes.size(), header.format));
    DecodeLimits limits;
    const DecodedImage decoded = DecodeToRgb(bytes.data(), bytes.size(), limits);  // no orientation
    EXPECT_EQ(header.width, decoded.width);
    EXPECT_EQ(header.height, decoded.height);
  }
}

TEST(ImageProbe, CutShortHeadersAreNothing) {
  for (const char* file :
       {"png_rgb_333x217.png", "jpeg_baseline_640x427.jpg", "webp_lossy_301x201.webp", "gif_palette_200x150.gif"}) {
    const std::vector<uint8_t> bytes = ReadFixture(std::string("images/") + file);
    ImageHeader header;
    for (size_t cut : {size_t{0}, size_t{1}, size_t{8}, size_t{12}, size_t{20}}) {
      EXPECT_FALSE(ProbeImage(bytes.data(), cut, &header)) << file << " cut at " << cut;
    }
    // Headers intact, pixel data missing: still probes (decoding would fail).
    ImageHeader full, half;
    ASSERT_TRUE(ProbeImage(bytes.data(), bytes.size(), &full));
    ASSERT_TRUE(ProbeImage(bytes.data(), bytes.size() / 2, &half)) << file;
    EXPECT_EQ(half.width, full.width);
    EXPECT_EQ(half.height, full.height);
  }
}

TEST(ImageProbe, GarbageIsNothing) {
  ImageHeader header;
  std::vector<uint8_t> zeros(4096, 0);
  EXPECT_FALSE(ProbeImage(zeros.data(), zeros.size(), &header));
  EXPECT_FALSE(ProbeImage(nullptr, 10, &header));
  // A PNG whose IHDR CRC does not match.
  std::vector<uint8_t> png = ReadFixture("images/png_1x1.png");
  ASSERT_TRUE(ProbeImage(png.data(), png.size(), &header));
  png[17] ^= 0x01;  // a width byte: the CRC no longer matches
  EXPECT_FALSE(ProbeImage(png.data(), png.size(), &header));
  // A JPEG SOI followed by garbage.
  std::vector<uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0x00, 0x13, 0x37, 0x00, 0x00, 0x00, 0x00};
  EXPECT_FALSE(ProbeImage(jpeg.data(), jpeg.size(), &header));
}

}  // namespace
}  // namespace crossmodal::image
