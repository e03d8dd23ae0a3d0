// XXH64 (Yann Collet's xxHash, 64-bit variant), streaming. Used for model fingerprints: fast
// enough to hash hundreds of megabytes of ONNX weights at load time, and a published,
// stable algorithm, so fingerprints saved with an index stay comparable across versions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace crossmodal {

class XxHash64 {
 public:
  explicit XxHash64(uint64_t seed = 0);
  void Update(const void* data, size_t size);
  void Update(std::string_view text) { Update(text.data(), text.size()); }
  uint64_t Digest() const;
  // Digest as 16 lowercase hex digits.
  std::string HexDigest() const;

 private:
  uint64_t v_[4];
  uint64_t seed_;
  uint64_t total_ = 0;
  unsigned char buffer_[32];
  size_t buffered_ = 0;
};

}  // namespace crossmodal
