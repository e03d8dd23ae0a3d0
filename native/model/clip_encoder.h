// A loaded dual-encoder model: image tower, text tower, tokenizer and image preprocessing.
// Pure C++: safe to use from any number of worker threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/native_buffer.h"
#include "image/decode.h"
#include "model/model_bundle.h"
#include "model/onnx_tower.h"
#include "runtime/execution_providers.h"
#include "text/tokenizer.h"

namespace crossmodal::model {

// One image to embed. The referenced bytes/pixels must stay alive for the call (the binding
// keeps the JS buffers referenced until the worker finishes).
struct ImageSource {
  enum class Kind { kPath, kEncoded, kPixels };
  Kind kind = Kind::kPath;
  std::string path;               // kPath
  const uint8_t* data = nullptr;  // kEncoded / kPixels
  size_t size = 0;
  int width = 0, height = 0, channels = 0;  // kPixels
};

struct EncoderOptions {
  runtime::SessionSettings session;
  size_t max_image_batch = 16;  // rows per vision run; bounds the input tensor's memory
  size_t max_text_batch = 64;
  image::DecodeLimits decode_limits;
};

class ClipEncoder {
 public:
  static std::shared_ptr<ClipEncoder> Load(const std::string& bundle_dir, const EncoderOptions& options);

  // Embeddings for each text, in order. `normalize`: unit L2 norm per row.
  EmbeddingMatrix EmbedTexts(const std::vector<std::string>& texts, bool normalize) const;
  // Embeddings for each image, in order. A bad input fails the call with its index in the message.
  EmbeddingMatrix EmbedImages(const std::vector<ImageSource>& images, bool normalize) const;

  // Token ids as fed to the model (context_length per text, padded) and each text's true length.
  void Tokenize(const std::vector<std::string>& texts, std::vector<int32_t>* ids, std::vector<int32_t>* lengths) const;

  const ModelBundle& bundle() const { return bundle_; }
  const OnnxTower& vision() const { return *vision_; }
  const OnnxTower& text() const { return *text_; }
  size_t embedding_dim() const { return static_cast<size_t>(vision_->embedding_dim()); }
  int32_t pad_id() const { return tokenizer_->pad_id(); }
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  ClipEncoder() = default;

  ModelBundle bundle_;
  EncoderOptions options_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::unique_ptr<OnnxTower> vision_;
  std::unique_ptr<OnnxTower> text_;
};

}  // namespace crossmodal::model
