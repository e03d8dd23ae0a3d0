#include "model/clip_encoder.h"

#include <algorithm>
#include <fstream>

#include "common/error.h"
#include "image/preprocess.h"
#include "text/tokenizer_factory.h"

namespace crossmodal::model {
namespace {

std::vector<uint8_t> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(codes::kIo, "cannot open " + path);
  std::streamoff size = in.tellg();
  if (size < 0) throw Error(codes::kIo, "cannot read " + path);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) throw Error(codes::kIo, "cannot read " + path);
  return bytes;
}

std::string DescribeInput(size_t index, const ImageSource& source) {
  std::string s = "image " + std::to_string(index);
  if (source.kind == ImageSource::Kind::kPath) s += " (" + source.path + ")";
  return s;
}

}  // namespace

std::shared_ptr<ClipEncoder> ClipEncoder::Load(const std::string& bundle_dir, const EncoderOptions& options) {
  std::shared_ptr<ClipEncoder> encoder(new ClipEncoder());
  encoder->options_ = options;
  encoder->bundle_ = ReadModelBundle(bundle_dir);
  const ModelBundle& bundle = encoder->bundle_;

  // The tokenizer factory picks the family (CLIP BPE, SentencePiece, Unigram) and the context
  // length (the family's, e.g. 512 for XLM-R, else the bundle's configs) from the bundle's files.
  encoder->tokenizer_ = text::LoadTokenizer(bundle_dir);

  encoder->vision_ = std::make_unique<OnnxTower>(bundle.vision_model_path, "vision", options.session,
                                                 std::vector<std::string>{"pixel_values"},
                                                 std::vector<std::string>{"image_embeds"});
  encoder->text_ = std::make_unique<OnnxTower>(bundle.text_model_path, "text", options.session,
                                               std::vector<std::string>{"input_ids"},
                                               std::vector<std::string>{"text_embeds"});

  const auto& pixel = encoder->vision_->main_input();
  if (pixel.type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
    throw Error(codes::kModelLoad, "vision input '" + pixel.name + "' is " + ElementTypeName(pixel.type) +
                                       "; this version feeds float32 pixel values");
  }
  if (pixel.shape.size() != 4 || (pixel.shape[1] > 0 && pixel.shape[1] != 3) ||
      (pixel.shape[2] > 0 && pixel.shape[2] != bundle.preprocess.OutputHeight()) ||
      (pixel.shape[3] > 0 && pixel.shape[3] != bundle.preprocess.OutputWidth())) {
    throw Error(codes::kModelLoad, "vision input '" + pixel.name + "' shape does not match preprocessor_config.json (" +
                                       std::to_string(bundle.preprocess.OutputHeight()) + "x" +
                                       std::to_string(bundle.preprocess.OutputWidth()) + " RGB)");
  }
  const auto& ids = encoder->text_->main_input();
  if (ids.type != ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 && ids.type != ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32) {
    throw Error(codes::kModelLoad, "text input '" + ids.name + "' is " + ElementTypeName(ids.type) + "; expected int64 or int32");
  }
  if (encoder->vision_->embedding_dim() != encoder->text_->embedding_dim()) {
    throw Error(codes::kModelLoad, "image and text embeddings differ in size (" +
                                       std::to_string(encoder->vision_->embedding_dim()) + " vs " +
                                       std::to_string(encoder->text_->embedding_dim()) + ")");
  }
  return encoder;
}

void ClipEncoder::Tokenize(const std::vector<std::string>& texts, std::vector<int32_t>* ids,
                           std::vector<int32_t>* lengths) const {
  ids->assign(texts.size() * tokenizer_->context_length(), 0);
  lengths->assign(texts.size(), 0);
  tokenizer_->EncodeBatch(texts, ids->data(), lengths->data());
}

EmbeddingMatrix ClipEncoder::EmbedTexts(const std::vector<std::string>& texts, bool normalize) const {
  const size_t dim = embedding_dim();
  EmbeddingMatrix result(texts.size(), dim);
  if (texts.empty()) return result;

  std::vector<int32_t> ids, lengths;
  Tokenize(texts, &ids, &lengths);
  const size_t context = tokenizer_->context_length();
  const bool int64_ids = text_->main_input().type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  const bool with_mask = !text_->attention_mask().name.empty();
  Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);

  for (size_t start = 0; start < texts.size(); start += options_.max_text_batch) {
    const size_t rows = std::min(options_.max_text_batch, texts.size() - start);
    size_t seq = context;
    if (bundle_.text_padding_trimmable && tokenizer_->padding() == text::Padding::kTrimmable) {
      seq = static_cast<size_t>(*std::max_element(lengths.begin() + start, lengths.begin() + start + rows));
    }
    const int64_t shape[2] = {static_cast<int64_t>(rows), static_cast<int64_t>(seq)};
    std::vector<int64_t> ids64;
    std::vector<int32_t> ids32;
    std::vector<int64_t> mask;
    if (int64_ids) ids64.resize(rows * seq); else ids32.resize(rows * seq);
    if (with_mask) mask.resize(rows * seq);
    for (size_t r = 0; r < rows; ++r) {
      const int32_t* src = ids.data() + (start + r) * context;
      for (size_t t = 0; t < seq; ++t) {
        if (int64_ids) ids64[r * seq + t] = src[t]; else ids32[r * seq + t] = src[t];
        if (with_mask) mask[r * seq + t] = static_cast<int64_t>(t) < lengths[start + r] ? 1 : 0;
      }
    }
    std::vector<Ort::Value> inputs;
    if (int64_ids) inputs.push_back(Ort::Value::CreateTensor<int64_t>(cpu, ids64.data(), ids64.size(), shape, 2));
    else inputs.push_back(Ort::Value::CreateTensor<int32_t>(cpu, ids32.data(), ids32.size(), shape, 2));
    if (with_mask) inputs.push_back(Ort::Value::CreateTensor<int64_t>(cpu, mask.data(), mask.size(), shape, 2));
    text_->Run(inputs, result.row(start), static_cast<int64_t>(rows));
  }
  if (normalize) NormalizeRows(result.values.data(), result.count, result.dim);
  return result;
}

EmbeddingMatrix ClipEncoder::EmbedImages(const std::vector<ImageSource>& images, bool normalize) const {
  const size_t dim = embedding_dim();
  EmbeddingMatrix result(images.size(), dim);
  if (images.empty()) return result;

  const image::PreprocessConfig& pre = bundle_.preprocess;
  const size_t plane = static_cast<size_t>(pre.OutputHeight()) * static_cast<size_t>(pre.OutputWidth());
  const size_t per_image = 3 * plane;
  Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  std::vector<float> batch;

  for (size_t start = 0; start < images.size(); start += options_.max_image_batch) {
    const size_t rows = std::min(options_.max_image_batch, images.size() - start);
    batch.resize(rows * per_image);
    for (size_t r = 0; r < rows; ++r) {
      const size_t index = start + r;
      const ImageSource& source = images[index];
      try {
        image::DecodedImage rgb;
        switch (source.kind) {
          case ImageSource::Kind::kPath: {
            std::vector<uint8_t> bytes = ReadFileBytes(source.path);
            rgb = image::DecodeToRgb(bytes.data(), bytes.size(), options_.decode_limits);
            break;
          }
          case ImageSource::Kind::kEncoded:
            rgb = image::DecodeToRgb(source.data, source.size, options_.decode_limits);
            break;
          case ImageSource::Kind::kPixels:
            rgb = image::RgbFromPixels(source.data, source.size, source.width, source.height, source.channels);
            break;
        }
        image::PreprocessRgbToTensor(rgb, pre, batch.data() + r * per_image);
      } catch (const Error& e) {
        throw Error(e.code(), DescribeInput(index, source) + ": " + e.what());
      }
    }
    const int64_t shape[4] = {static_cast<int64_t>(rows), 3, pre.OutputHeight(), pre.OutputWidth()};
    std::vector<Ort::Value> inputs;
    inputs.push_back(Ort::Value::CreateTensor<float>(cpu, batch.data(), batch.size(), shape, 4));
    vision_->Run(inputs, result.row(start), static_cast<int64_t>(rows));
  }
  if (normalize) NormalizeRows(result.values.data(), result.count, result.dim);
  return result;
}

}  // namespace crossmodal::model
