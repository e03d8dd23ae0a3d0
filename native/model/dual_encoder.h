// DualEncoder: a loaded dual-encoder model (CLIP, OpenCLIP, SigLIP, XLM-R multilingual CLIP: any
// bundle model_bundle.h recognises): image tower, text tower, tokenizer, image preprocessing, and
// a dynamic batcher per tower. JS sees it as EncoderSession (binding/objects/encoder_session.h),
// which lib/ wraps as the public Model. Pure C++: safe to use from any number of threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/embedding_matrix.h"
#include "common/thread_pool.h"
#include "image/decode.h"
#include "image/pipeline.h"
#include "model/embed_request.h"
#include "model/model_bundle.h"
#include "model/onnx_tower.h"
#include "model/tower_scheduler.h"
#include "runtime/execution_providers.h"
#include "text/tokenizer.h"

namespace crossmodal::model {

struct EncoderOptions {
  runtime::SessionSettings session;
  Precision precision = Precision::kAuto;
  size_t max_image_batch = 32;
  size_t max_text_batch = 128;
  std::chrono::microseconds max_queue_delay{2000};
  size_t max_queued_rows = 8192;  // per tower
  bool batch_when_idle = false;   // TowerScheduler::Limits::batch_when_idle
  size_t preprocess_threads = 0;  // 0: one per hardware thread
  // Run text batches at their longest text's length when the bundle allows it (exact for CLIP).
  bool trim_text_padding = true;
  image::ImageLoadOptions image_options;  // limits, EXIF orientation, DCT scaling
};

// Monitoring counters of one encoder (Stats()): cheap to read, updated by the worker threads.
struct EncoderStats {
  TowerStats image;
  TowerStats text;
  Histogram decode{Histogram::DurationBoundsNs()};      // per image: read + decode
  Histogram preprocess{Histogram::DurationBoundsNs()};  // per image: resize, crop, normalise
  Histogram tokenize{Histogram::DurationBoundsNs()};    // per text call: all of its texts
};

class DualEncoder {
 public:
  static std::shared_ptr<DualEncoder> Load(const std::string& bundle_dir, const EncoderOptions& options);
  ~DualEncoder();

  // Queues an embedding request on its tower's batcher. Its on_complete runs on a scheduler
  // thread. Throws ERR_QUEUE_FULL / ERR_DISPOSED synchronously.
  void Submit(std::shared_ptr<EmbedRequest> request);
  // Stops both batchers accepting calls; calls already queued still complete.
  void Shutdown();

  // Token ids as fed to the model (context_length per text, padded) and each text's true length.
  void Tokenize(const std::vector<std::string>& texts, std::vector<int32_t>* ids, std::vector<int32_t>* lengths) const;

  const ModelBundle& bundle() const { return bundle_; }
  const OnnxTower& vision() const { return *vision_; }
  const OnnxTower& text() const { return *text_; }
  size_t embedding_dim() const { return static_cast<size_t>(vision_->embedding_dim()); }
  int32_t pad_id() const { return tokenizer_->pad_id(); }
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }
  const EncoderOptions& options() const { return options_; }
  bool trims_text_padding() const { return trim_text_padding_; }
  // Counters for monitoring, and each tower's current queue depth in rows.
  const EncoderStats& stats() const { return stats_; }
  size_t queued_image_rows() const { return image_scheduler_->queued_rows(); }
  size_t queued_text_rows() const { return text_scheduler_->queued_rows(); }
  // The pool that decodes and preprocesses image batches (also used by preprocess calls).
  ThreadPool* preprocess_pool() const { return pool_.get(); }

 private:
  DualEncoder() = default;
  void PrepareText(EmbedRequest& request) const;
  void FillImages(Batch& batch) const;
  void FillTexts(Batch& batch) const;
  // Runs a filled text batch, as sub-batches of similar length when that saves work
  // (model/length_groups.h), writing batch.output in the batch's row order.
  void RunTexts(Batch& batch) const;

  ModelBundle bundle_;
  EncoderOptions options_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::unique_ptr<OnnxTower> vision_;
  std::unique_ptr<OnnxTower> text_;
  // Text batches may run at their longest text's length (see FillTexts).
  bool trim_text_padding_ = false;
  std::unique_ptr<ThreadPool> pool_;
  // Mutable: recording is not a change of the encoder's observable state. Declared before the
  // schedulers, which hold a pointer into it.
  mutable EncoderStats stats_;
  // Declared last: destroyed (threads joined) before the towers and pool they use.
  std::unique_ptr<TowerScheduler> image_scheduler_;
  std::unique_ptr<TowerScheduler> text_scheduler_;
};

}  // namespace crossmodal::model
