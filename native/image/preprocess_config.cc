#include "image/preprocess_config.h"

#include <cmath>
#include <limits>
#include <string>

#include "common/error.h"
#include "common/file_util.h"

namespace crossmodal::image {

namespace {

using nlohmann::json;

[[noreturn]] void Bad(const std::string& field, const std::string& what) {
  throw Error(codes::kModelLoad, "preprocessor config: invalid \"" + field + "\": " + what);
}

// Present and not null.
const json* Find(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

bool GetBool(const json& j, const char* key, bool def) {
  const json* v = Find(j, key);
  if (!v) return def;
  if (!v->is_boolean()) Bad(key, "expected true or false, got " + v->dump());
  return v->get<bool>();
}

// A positive integer (an integral float such as 224.0 is accepted too), at most kMaxImageSide:
// these sizes come from files and size every preprocessed tensor (3 x height x width floats per
// image, per batch row), so a config declaring 1,000,000 would exhaust memory at the first call.
// 4096 is far above any image model's input (224..1024) and costs 200 MB per image at most.
constexpr int kMaxImageSide = 4096;
int PositiveInt(const json& v, const std::string& field) {
  if (!v.is_number()) Bad(field, "expected a positive integer, got " + v.dump());
  const double d = v.get<double>();  // exact for every value that passes the range check
  if (d != std::floor(d)) Bad(field, "expected an integer, got " + v.dump());
  if (!(d >= 1 && d <= kMaxImageSide)) {
    Bad(field, "expected an integer in 1.." + std::to_string(kMaxImageSide) + ", got " + v.dump());
  }
  return static_cast<int>(d);
}

double Number(const json& v, const std::string& field) {
  if (!v.is_number()) Bad(field, "expected a number, got " + v.dump());
  const double d = v.get<double>();
  if (!std::isfinite(d)) Bad(field, "expected a finite number, got " + v.dump());
  return d;
}

// A number, or an array of 1 or 3 numbers (1 is broadcast), as float32 (numpy float32 cast).
std::array<float, 3> Triple(const json& v, const char* field) {
  std::array<float, 3> out{};
  if (v.is_number()) {
    out.fill(static_cast<float>(Number(v, field)));
  } else if (v.is_array() && (v.size() == 1 || v.size() == 3)) {
    for (size_t i = 0; i < 3; ++i) {
      out[i] = static_cast<float>(Number(v[v.size() == 1 ? 0 : i], field));
    }
  } else {
    Bad(field, "expected a number or a list of 3 numbers, got " + v.dump());
  }
  for (float f : out) {
    if (!std::isfinite(f)) Bad(field, "value out of float32 range");
  }
  return out;
}

// {"height": H, "width": W} -> (H, W).
void HeightWidth(const json& v, const std::string& field, int* h, int* w) {
  const json* jh = Find(v, "height");
  const json* jw = Find(v, "width");
  if (!jh || !jw) Bad(field, "expected {\"height\", \"width\"}, got " + v.dump());
  *h = PositiveInt(*jh, field + ".height");
  *w = PositiveInt(*jw, field + ".width");
}

bool IsSiglip(const json& j) {
  for (const char* key : {"image_processor_type", "feature_extractor_type"}) {
    const json* v = Find(j, key);
    if (v && v->is_string() && v->get<std::string>().find("Siglip") != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

static PreprocessConfig ParsePreprocessConfigUnchecked(const json& j) {
  if (!j.is_object()) {
    throw Error(codes::kModelLoad, "preprocessor config: expected a JSON object");
  }
  PreprocessConfig cfg;  // CLIPImageProcessor defaults
  const bool siglip = IsSiglip(j);
  if (siglip) {
    // SiglipImageProcessor defaults: 224x224 fixed resize, no center crop, mean/std 0.5.
    cfg.resize_mode = ResizeMode::kFixed;
    cfg.resize_height = cfg.resize_width = 224;
    cfg.do_center_crop = false;
    cfg.image_mean = {0.5f, 0.5f, 0.5f};
    cfg.image_std = {0.5f, 0.5f, 0.5f};
  }

  cfg.do_resize = GetBool(j, "do_resize", cfg.do_resize);
  if (const json* size = Find(j, "size")) {
    if (size->is_number()) {
      // HF get_size_dict: an int means shortest edge for CLIP (default_to_square=False).
      // (SiglipImageProcessor would fail on an int; we read it as a square.)
      const int n = PositiveInt(*size, "size");
      if (siglip) {
        cfg.resize_mode = ResizeMode::kFixed;
        cfg.resize_height = cfg.resize_width = n;
      } else {
        cfg.resize_mode = ResizeMode::kShortestEdge;
        cfg.shortest_edge = n;
      }
    } else if (size->is_object()) {
      const json* se = Find(*size, "shortest_edge");
      if (se && !siglip) {
        cfg.resize_mode = ResizeMode::kShortestEdge;
        cfg.shortest_edge = PositiveInt(*se, "size.shortest_edge");
      } else if (Find(*size, "height") || Find(*size, "width")) {
        cfg.resize_mode = ResizeMode::kFixed;
        HeightWidth(*size, "size", &cfg.resize_height, &cfg.resize_width);
      } else {
        Bad("size",
            std::string("expected {\"shortest_edge\": N}") + " or {\"height\": H, \"width\": W}, got " + size->dump());
      }
    } else {
      Bad("size", "expected an integer or an object, got " + size->dump());
    }
  }

  if (const json* r = Find(j, "resample")) {
    if (!r->is_number_integer() || !FilterFromPillowCode(r->get<int>(), &cfg.resample)) {
      Bad("resample", "expected a Pillow resampling code 0..5, got " + r->dump());
    }
  }

  if (!siglip) {
    cfg.do_center_crop = GetBool(j, "do_center_crop", cfg.do_center_crop);
    if (const json* crop = Find(j, "crop_size")) {
      if (crop->is_number()) {
        cfg.crop_height = cfg.crop_width = PositiveInt(*crop, "crop_size");
      } else if (crop->is_object()) {
        HeightWidth(*crop, "crop_size", &cfg.crop_height, &cfg.crop_width);
      } else {
        Bad("crop_size", "expected an integer or {\"height\", \"width\"}, got " + crop->dump());
      }
    }
  }

  cfg.do_rescale = GetBool(j, "do_rescale", cfg.do_rescale);
  if (const json* rf = Find(j, "rescale_factor")) {
    cfg.rescale_factor = Number(*rf, "rescale_factor");
  }

  cfg.do_normalize = GetBool(j, "do_normalize", cfg.do_normalize);
  if (const json* m = Find(j, "image_mean")) cfg.image_mean = Triple(*m, "image_mean");
  if (const json* s = Find(j, "image_std")) cfg.image_std = Triple(*s, "image_std");
  if (cfg.do_normalize) {
    for (float s : cfg.image_std) {
      if (s == 0.0f) Bad("image_std", "values must be non-zero");
    }
  }

  cfg.do_convert_rgb = GetBool(j, "do_convert_rgb", cfg.do_convert_rgb);
  return cfg;
}

PreprocessConfig ParsePreprocessConfig(const json& j) {
  return RethrowJsonErrors(codes::kModelLoad, "preprocessor config", [&] { return ParsePreprocessConfigUnchecked(j); });
}

int PreprocessConfig::OutputHeight() const {
  if (do_center_crop) return crop_height;
  if (do_resize && resize_mode == ResizeMode::kFixed) return resize_height;
  return -1;
}

int PreprocessConfig::OutputWidth() const {
  if (do_center_crop) return crop_width;
  if (do_resize && resize_mode == ResizeMode::kFixed) return resize_width;
  return -1;
}

void PreprocessConfig::ResizedSizeFor(int width, int height, int* out_width, int* out_height) const {
  if (width <= 0 || height <= 0) {
    throw Error(codes::kInvalidArgument, "image size must be positive");
  }
  if (!do_resize) {
    *out_width = width;
    *out_height = height;
    return;
  }
  if (resize_mode == ResizeMode::kFixed) {
    *out_width = resize_width;
    *out_height = resize_height;
    return;
  }
  // transformers.image_transforms.get_resize_output_image_size(default_to_square=False):
  //   short, long = (width, height) if width <= height else (height, width)
  //   new_short, new_long = size, int(size * long / short)
  // Python's int / int is the correctly rounded quotient, which is what double division of
  // the two exactly representable operands gives.
  const bool portrait = width <= height;
  const int64_t short_edge = portrait ? width : height;
  const int64_t long_edge = portrait ? height : width;
  const double q = static_cast<double>(int64_t{shortest_edge} * long_edge) / static_cast<double>(short_edge);
  if (!(q < static_cast<double>(std::numeric_limits<int>::max()))) {
    throw Error(codes::kImageTooLarge, "resized image would be too large");
  }
  const int new_long = static_cast<int>(q);  // int() truncates
  *out_width = portrait ? shortest_edge : new_long;
  *out_height = portrait ? new_long : shortest_edge;
}

void PreprocessConfig::OutputSizeFor(int width, int height, int* out_width, int* out_height) const {
  if (do_center_crop) {
    if (width <= 0 || height <= 0) {
      throw Error(codes::kInvalidArgument, "image size must be positive");
    }
    *out_width = crop_width;
    *out_height = crop_height;
    return;
  }
  ResizedSizeFor(width, height, out_width, out_height);
}

}  // namespace crossmodal::image
