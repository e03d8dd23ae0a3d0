// preprocessImages(inputs, preprocessorConfigJson, options): the image pipeline without a model,
// and the queueing it shares with EncoderSession.preprocess().
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "common/thread_pool.h"
#include "image/pipeline.h"
#include "image/preprocess_config.h"

namespace crossmodal::binding {

// Decodes and preprocesses `sources` on the background queue; resolves with
// PreprocessedBatchToJs. `pool` may be shared (a model's) or nullptr, in which case up to
// `own_threads` threads (the worker's own included) are used for this call. `keep_alive` (the
// model owning `pool`, if any) is released off the event loop when the work is done.
Napi::Value QueuePreprocess(Napi::Env env, image::PreprocessConfig config, image::ImageLoadOptions options,
                            std::vector<image::ImageSource> sources, std::vector<std::vector<uint8_t>> owned,
                            ThreadPool* pool, size_t own_threads, std::shared_ptr<void> keep_alive);

}  // namespace crossmodal::binding
