// Image preprocessing parameters, read from a Hugging Face `preprocessor_config.json`
// (CLIPImageProcessor / SiglipImageProcessor and compatible, including the legacy
// CLIPFeatureExtractor form with integer `size` / `crop_size`).
#pragma once

#include <array>

#include <nlohmann/json.hpp>

#include "image/resample.h"

namespace crossmodal::image {

enum class ResizeMode {
  kShortestEdge,  // size {"shortest_edge": N} (or an int for CLIP-style processors)
  kFixed,         // size {"height": H, "width": W} (or an int for SigLIP-style processors)
};

struct PreprocessConfig {
  // Defaults are CLIPImageProcessor's (openai/clip-vit-*).
  bool do_resize = true;
  ResizeMode resize_mode = ResizeMode::kShortestEdge;
  int shortest_edge = 224;  // kShortestEdge
  int resize_height = 224;  // kFixed
  int resize_width = 224;   // kFixed
  Filter resample = Filter::kBicubic;

  bool do_center_crop = true;
  int crop_height = 224;
  int crop_width = 224;

  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;  // applied in float64, then cast to float32 (HF)

  bool do_normalize = true;
  std::array<float, 3> image_mean{0.48145466f, 0.4578275f, 0.40821073f};  // OPENAI_CLIP_MEAN
  std::array<float, 3> image_std{0.26862954f, 0.26130258f, 0.27577711f};  // OPENAI_CLIP_STD

  // Images are always decoded to RGB; kept for completeness (HF's convert_rgb).
  bool do_convert_rgb = true;

  // Size of the final tensor (H and W of the 3xHxW output), or -1 when it depends on the input
  // image (shortest-edge resize or no resize, without a center crop). See OutputSizeFor.
  int OutputHeight() const;
  int OutputWidth() const;
  bool HasFixedOutputSize() const { return OutputHeight() > 0; }

  // Size after the resize step for an input of width x height (HF get_resize_output_image_size;
  // shortest edge: the other edge is int(N * long / short)). Without do_resize: the input size.
  void ResizedSizeFor(int width, int height, int* out_width, int* out_height) const;
  // Size of the final tensor for an input of width x height.
  void OutputSizeFor(int width, int height, int* out_width, int* out_height) const;
};

// Parses a preprocessor_config.json object. Missing keys take HF defaults: SigLIP-style when
// "image_processor_type" (or "feature_extractor_type") names a Siglip processor (size 224x224,
// no center crop, mean/std 0.5), CLIP-style otherwise. For SigLIP processors crop keys are
// ignored, as SiglipImageProcessor has no center-crop step. Throws
// crossmodal::Error(ERR_MODEL_LOAD) naming the offending field.
PreprocessConfig ParsePreprocessConfig(const nlohmann::json& json);

}  // namespace crossmodal::image
