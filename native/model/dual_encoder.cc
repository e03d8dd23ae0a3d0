#include "model/dual_encoder.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "common/error.h"
#include "model/length_groups.h"
#include "text/tokenizer_factory.h"

namespace crossmodal::model {
namespace {

bool PrefersGpuPrecision(runtime::InferenceDevice device) {
  return device == runtime::InferenceDevice::kCuda || device == runtime::InferenceDevice::kTensorRt;
}

}  // namespace

std::shared_ptr<DualEncoder> DualEncoder::Load(const std::string& bundle_dir, const EncoderOptions& options) {
  std::shared_ptr<DualEncoder> encoder(new DualEncoder());
  encoder->options_ = options;
  encoder->bundle_ = ReadModelBundle(bundle_dir, options.precision, PrefersGpuPrecision(options.session.device));
  const ModelBundle& bundle = encoder->bundle_;
  const image::PreprocessConfig& pre = bundle.preprocess;
  runtime::SessionSettings session_settings = options.session;
  if (!session_settings.trt_cache_dir.empty()) {
    // TensorRT engines are only valid for one model: give each fingerprint its own directory.
    // ONNX Runtime already names engine files by TensorRT version and GPU compute capability.
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::path(session_settings.trt_cache_dir) / bundle.fingerprint;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      throw Error(codes::kInvalidArgument,
                  "cannot create the TensorRT cache directory " + dir.string() + ": " + ec.message());
    session_settings.trt_cache_dir = dir.string();
  }
  if (!pre.HasFixedOutputSize()) {
    throw Error(codes::kModelLoad,
                bundle.root + ": the image preprocessing must produce a fixed size (crop or fixed resize)");
  }

  // The tokenizer factory picks the family (CLIP BPE, SentencePiece, Unigram) and the context
  // length (the family's, e.g. 512 for XLM-R, else the bundle's configs) from the bundle's files.
  encoder->tokenizer_ = text::LoadTokenizer(bundle_dir);

  // A combined model's text input needs a placeholder while images run: a framed empty text.
  std::vector<int64_t> placeholder_ids;
  {
    std::vector<int32_t> ids(encoder->tokenizer_->context_length());
    const size_t length = encoder->tokenizer_->EncodeForModel("", ids.data());
    placeholder_ids.assign(ids.begin(), ids.begin() + std::max<size_t>(length, 1));
  }
  const TowerSpec vision_spec{
      "vision", {"pixel_values", "image", "input"}, {"image_embeds", "embedding", "embeddings"}, true};
  const TowerSpec text_spec{"text", {"input_ids", "text", "input"}, {"text_embeds", "embedding", "embeddings"}, false};
  if (!bundle.combined_model_path.empty()) {
    LoadedSession shared = LoadSession(bundle.combined_model_path, session_settings);
    encoder->vision_ =
        std::make_unique<OnnxTower>(shared, vision_spec, pre.OutputHeight(), pre.OutputWidth(), placeholder_ids);
    encoder->text_ =
        std::make_unique<OnnxTower>(shared, text_spec, pre.OutputHeight(), pre.OutputWidth(), placeholder_ids);
  } else {
    encoder->vision_ = std::make_unique<OnnxTower>(LoadSession(bundle.vision_model_path, session_settings), vision_spec,
                                                   pre.OutputHeight(), pre.OutputWidth(), placeholder_ids);
    encoder->text_ = std::make_unique<OnnxTower>(LoadSession(bundle.text_model_path, session_settings), text_spec,
                                                 pre.OutputHeight(), pre.OutputWidth(), placeholder_ids);
  }

  const auto& pixel = encoder->vision_->main_input();
  if ((pixel.shape[1] > 0 && pixel.shape[1] != 3) || (pixel.shape[2] > 0 && pixel.shape[2] != pre.OutputHeight()) ||
      (pixel.shape[3] > 0 && pixel.shape[3] != pre.OutputWidth())) {
    throw Error(codes::kModelLoad, "vision input '" + pixel.name + "' shape does not match the preprocessing (" +
                                       std::to_string(pre.OutputHeight()) + "x" + std::to_string(pre.OutputWidth()) +
                                       " RGB)");
  }
  if (encoder->vision_->embedding_dim() != encoder->text_->embedding_dim()) {
    throw Error(codes::kModelLoad, "image and text embeddings differ in size (" +
                                       std::to_string(encoder->vision_->embedding_dim()) + " vs " +
                                       std::to_string(encoder->text_->embedding_dim()) + ")");
  }

  // Padding after the true length cannot change the result when the tower is causal and pooled
  // at the end token (CLIP) or masks it out (a declared attention mask), and the tokenizer does
  // not demand fixed-length rows (SigLIP).
  encoder->trim_text_padding_ = options.trim_text_padding &&
                                encoder->tokenizer_->padding() == text::Padding::kTrimmable &&
                                (bundle.text_padding_trimmable || !encoder->text_->attention_mask().name.empty());
  // Every compute thread of the encoder (preprocessing pool, batchers, ONNX Runtime's intra-op
  // threads) runs at the same nice value, so none is favoured over another, only the caller's loop.
  const int niceness = options.session.worker_niceness;
  encoder->pool_ = std::make_unique<ThreadPool>(options.preprocess_threads, niceness);
  DualEncoder* self = encoder.get();  // the schedulers are owned by, and die before, *self
  const size_t dim = encoder->embedding_dim();
  TowerScheduler::Limits image_limits{options.max_image_batch, options.max_queue_delay, options.max_queued_rows,
                                      options.batch_when_idle, niceness};
  TowerScheduler::Limits text_limits{options.max_text_batch, options.max_queue_delay, options.max_queued_rows,
                                     options.batch_when_idle, niceness};
  encoder->image_scheduler_ = std::make_unique<TowerScheduler>(
      "image", image_limits,
      TowerScheduler::Hooks{[](EmbedRequest&) {}, [self](Batch& batch) { self->FillImages(batch); },
                            [self](Batch& batch) {
                              self->stats_.image.runs.fetch_add(1, std::memory_order_relaxed);
                              const auto& p = self->bundle_.preprocess;
                              self->vision_->RunPixels(batch.pixels.data(), static_cast<int64_t>(batch.rows),
                                                       p.OutputHeight(), p.OutputWidth(), batch.output.data());
                            },
                            dim},
      &encoder->stats_.image);
  encoder->text_scheduler_ = std::make_unique<TowerScheduler>(
      "text", text_limits,
      TowerScheduler::Hooks{[self](EmbedRequest& request) { self->PrepareText(request); },
                            [self](Batch& batch) { self->FillTexts(batch); },
                            [self](Batch& batch) { self->RunTexts(batch); }, dim},
      &encoder->stats_.text);
  return encoder;
}

DualEncoder::~DualEncoder() {
  // Join the batchers first: their threads call into the towers and the pool.
  image_scheduler_.reset();
  text_scheduler_.reset();
}

void DualEncoder::Submit(std::shared_ptr<EmbedRequest> request) {
  if (request->kind == EmbedRequest::Kind::kText) {
    text_scheduler_->Submit(std::move(request));
  } else {
    image_scheduler_->Submit(std::move(request));
  }
}

void DualEncoder::Shutdown() {
  image_scheduler_->Shutdown();
  text_scheduler_->Shutdown();
}

void DualEncoder::Tokenize(const std::vector<std::string>& texts, std::vector<int32_t>* ids,
                           std::vector<int32_t>* lengths) const {
  ids->assign(texts.size() * tokenizer_->context_length(), tokenizer_->pad_id());
  lengths->assign(texts.size(), 0);
  tokenizer_->EncodeBatch(texts, ids->data(), lengths->data());
}

void DualEncoder::PrepareText(EmbedRequest& request) const {
  const auto start = std::chrono::steady_clock::now();
  Tokenize(request.texts, &request.token_ids, &request.token_lengths);
  stats_.tokenize.Record(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count()));
  // Longest first, so rows batched together have similar lengths and little padding; the
  // scheduler writes each row back to its original position.
  request.order.resize(request.texts.size());
  std::iota(request.order.begin(), request.order.end(), 0u);
  if (trim_text_padding_) {
    std::stable_sort(request.order.begin(), request.order.end(),
                     [&](uint32_t a, uint32_t b) { return request.token_lengths[a] > request.token_lengths[b]; });
  }
}

void DualEncoder::FillTexts(Batch& batch) const {
  const size_t context = tokenizer_->context_length();
  size_t sequence = context;
  if (trim_text_padding_) {
    sequence = 1;
    for (const auto& slice : batch.slices) {
      const EmbedRequest& r = *slice.request;
      if (r.token_lengths.empty()) continue;  // preparation failed
      for (size_t i = slice.begin; i < slice.end; ++i) {
        sequence = std::max(sequence, static_cast<size_t>(r.token_lengths[r.order[i]]));
      }
    }
  }
  batch.sequence_length = sequence;
  batch.row_lengths.assign(batch.rows, 0);
  batch.ids64.assign(batch.rows * sequence, tokenizer_->pad_id());
  const bool with_mask = !text_->attention_mask().name.empty();
  if (with_mask) batch.mask.assign(batch.rows * sequence, 0);
  size_t row = 0;
  for (const auto& slice : batch.slices) {
    const EmbedRequest& r = *slice.request;
    for (size_t i = slice.begin; i < slice.end; ++i, ++row) {
      if (r.token_lengths.empty()) continue;
      const size_t original = r.order[i];
      batch.row_lengths[row] = static_cast<uint32_t>(std::min<size_t>(r.token_lengths[original], sequence));
      const int32_t* src = r.token_ids.data() + original * context;
      std::copy(src, src + sequence, batch.ids64.begin() + row * sequence);
      if (with_mask) {
        std::fill_n(batch.mask.begin() + row * sequence, std::min<size_t>(r.token_lengths[original], sequence), 1);
      }
    }
  }
}

void DualEncoder::RunTexts(Batch& batch) const {
  const size_t rows = batch.rows;
  const size_t sequence = batch.sequence_length;
  const int64_t* mask = batch.mask.empty() ? nullptr : batch.mask.data();
  auto run_whole = [&] {
    stats_.text.runs.fetch_add(1, std::memory_order_relaxed);
    text_->RunTokens(batch.ids64.data(), mask, static_cast<int64_t>(rows), static_cast<int64_t>(sequence),
                     batch.output.data());
  };
  // Only trimmed batches may run shorter than the context length (see FillTexts).
  if (!trim_text_padding_ || rows < 2 || batch.row_lengths.size() != rows) return run_whole();
  std::vector<uint32_t> order(rows);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return batch.row_lengths[a] > batch.row_lengths[b]; });
  std::vector<size_t> lengths(rows);
  for (size_t k = 0; k < rows; ++k) lengths[k] = std::clamp<size_t>(batch.row_lengths[order[k]], 1, sequence);
  const std::vector<size_t> ends = PlanLengthGroups(lengths);
  if (ends.size() <= 1) return run_whole();

  const size_t dim = embedding_dim();
  std::vector<int64_t> ids;
  std::vector<int64_t> sub_mask;
  std::vector<float> output;
  size_t begin = 0;
  for (const size_t end : ends) {
    const size_t n = end - begin;
    const size_t length = lengths[begin];  // the longest of this sub-batch
    ids.resize(n * length);
    if (mask) sub_mask.resize(n * length);
    for (size_t k = 0; k < n; ++k) {
      const size_t row = order[begin + k];
      std::copy_n(batch.ids64.data() + row * sequence, length, ids.data() + k * length);
      if (mask) std::copy_n(mask + row * sequence, length, sub_mask.data() + k * length);
    }
    output.resize(n * dim);
    stats_.text.runs.fetch_add(1, std::memory_order_relaxed);
    text_->RunTokens(ids.data(), mask ? sub_mask.data() : nullptr, static_cast<int64_t>(n),
                     static_cast<int64_t>(length), output.data());
    for (size_t k = 0; k < n; ++k) {
      std::copy_n(output.data() + k * dim, dim, batch.output.data() + order[begin + k] * dim);
    }
    begin = end;
  }
}

void DualEncoder::FillImages(Batch& batch) const {
  const image::PreprocessConfig& pre = bundle_.preprocess;
  const size_t per_image = 3 * static_cast<size_t>(pre.OutputHeight()) * static_cast<size_t>(pre.OutputWidth());
  batch.pixels.assign(batch.rows * per_image, 0.0f);
  struct RowRef {
    EmbedRequest* request;
    size_t index;
  };
  std::vector<RowRef> rows;
  rows.reserve(batch.rows);
  for (const auto& slice : batch.slices) {
    for (size_t i = slice.begin; i < slice.end; ++i) rows.push_back({slice.request.get(), i});
  }
  // Decoding and resizing dominate image throughput: spread the rows over the pool, each
  // writing straight into its slot of the batch tensor.
  pool_->ParallelFor(rows.size(), [&](size_t r) {
    EmbedRequest& request = *rows[r].request;
    if (request.cancelled.load() || request.failed()) return;
    const image::ImageSource& source = request.images[rows[r].index];
    try {
      image::ImageStageTimes times;
      image::PreprocessImageSource(source, pre, request.image_options ? *request.image_options : options_.image_options,
                                   batch.pixels.data() + r * per_image, &times);
      stats_.decode.Record(times.decode_ns);
      stats_.preprocess.Record(times.preprocess_ns);
    } catch (const Error& e) {
      request.Fail(e.code(), image::DescribeImageInput(rows[r].index, source) + ": " + e.what());
    } catch (const std::bad_alloc&) {
      request.Fail(codes::kResource, image::DescribeImageInput(rows[r].index, source) + ": " + kOutOfMemoryMessage);
    } catch (const std::exception& e) {
      request.Fail(codes::kInternal, image::DescribeImageInput(rows[r].index, source) + ": " + e.what());
    }
  });
}

}  // namespace crossmodal::model
