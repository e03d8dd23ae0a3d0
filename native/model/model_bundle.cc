#include "model/model_bundle.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "common/xxhash64.h"
#include "text/tokenizer.h"

namespace fs = std::filesystem;

namespace crossmodal::model {
namespace {

// Absent: false. A FIFO, device or directory under a bundle file's name: ERR_IO (file_util.h).
bool IsFile(const fs::path& path) { return RegularFileExists(path.string()); }

std::string RequireFile(const fs::path& root, const std::string& relative) {
  fs::path path = root / relative;
  if (!IsFile(path)) throw Error(codes::kModelLoad, "model bundle " + root.string() + " has no " + relative);
  return path.string();
}

// File-name suffixes of each precision, in order of preference. Transformers.js calls its int8
// dynamic quantisation "_quantized"; Optimum writes "_int8" / "_uint8".
struct VariantSuffixes {
  Precision precision;
  std::array<const char*, 3> suffixes;
};
constexpr VariantSuffixes kVariants[] = {
    {Precision::kFp32, {"", nullptr, nullptr}},
    {Precision::kFp16, {"_fp16", nullptr, nullptr}},
    {Precision::kInt8, {"_quantized", "_int8", "_uint8"}},
    {Precision::kQ4, {"_q4", nullptr, nullptr}},
};

// Path of `<dir>/<stem><suffix>.onnx` for `precision`, or empty.
std::string FindVariant(const fs::path& dir, const std::string& stem, Precision precision) {
  for (const auto& variant : kVariants) {
    if (variant.precision != precision) continue;
    for (const char* suffix : variant.suffixes) {
      if (suffix == nullptr) continue;
      fs::path candidate = dir / (stem + suffix + ".onnx");
      if (IsFile(candidate)) return candidate.string();
    }
  }
  return {};
}

// The precisions for which every stem has a file.
std::vector<Precision> PresentPrecisions(const std::vector<std::pair<fs::path, std::string>>& stems) {
  std::vector<Precision> present;
  for (const auto& variant : kVariants) {
    bool all = true;
    for (const auto& [dir, stem] : stems) all = all && !FindVariant(dir, stem, variant.precision).empty();
    if (all) present.push_back(variant.precision);
  }
  return present;
}

Precision ChoosePrecision(const std::vector<Precision>& present, Precision requested, bool prefer_gpu,
                          const std::string& root) {
  auto has = [&](Precision p) { return std::find(present.begin(), present.end(), p) != present.end(); };
  if (requested != Precision::kAuto) {
    if (has(requested)) return requested;
    std::string list;
    for (Precision p : present) list += (list.empty() ? "" : ", ") + std::string(PrecisionName(p));
    throw Error(codes::kModelLoad, std::string("model bundle ") + root + " has no " + PrecisionName(requested) +
                                       " variant (available: " + (list.empty() ? "none" : list) + ")");
  }
  const std::vector<Precision> order =
      prefer_gpu ? std::vector<Precision>{Precision::kFp16, Precision::kFp32, Precision::kInt8, Precision::kQ4}
                 : std::vector<Precision>{Precision::kFp32, Precision::kInt8, Precision::kFp16, Precision::kQ4};
  for (Precision p : order) {
    if (has(p)) return p;
  }
  throw Error(codes::kModelLoad, "model bundle " + root + " has no ONNX models");
}

void HashFile(XxHash64& hash, const std::string& path) {
  uint64_t size = 0;
  FileHandle file = OpenRegularFile(path, codes::kModelLoad, &size);  // never a FIFO or device
  std::vector<char> buffer(1 << 20);
  while (size > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(size, buffer.size()));
    ReadFully(file.get(), buffer.data(), chunk, path);
    hash.Update(buffer.data(), chunk);
    size -= chunk;
  }
}

std::string DescribePreprocess(const image::PreprocessConfig& p) {
  std::ostringstream s;
  s.precision(9);
  s << "resize=" << p.do_resize << ':' << static_cast<int>(p.resize_mode) << ':' << p.shortest_edge << ':'
    << p.resize_height << 'x' << p.resize_width << ":filter=" << static_cast<int>(p.resample)
    << ";crop=" << p.do_center_crop << ':' << p.crop_height << 'x' << p.crop_width << ";rescale=" << p.do_rescale << ':'
    << p.rescale_factor << ";normalize=" << p.do_normalize;
  for (float m : p.image_mean) s << ':' << m;
  for (float d : p.image_std) s << ':' << d;
  return s.str();
}

// open_clip's preprocessing: preprocessor_config.json when the exporter wrote one, else
// preprocess_cfg.json (size, mean, std, interpolation, resize_mode), else config.json's
// vision_cfg.image_size with OpenAI's mean/std.
image::PreprocessConfig OpenClipPreprocess(const fs::path& root, const nlohmann::json& config) {
  if (IsFile(root / "preprocessor_config.json")) {
    return image::ParsePreprocessConfig(ReadJsonFile((root / "preprocessor_config.json").string()));
  }
  nlohmann::json hf = nlohmann::json::object();
  int size = 224;
  if (config.contains("vision_cfg") && config["vision_cfg"].contains("image_size") &&
      config["vision_cfg"]["image_size"].is_number_integer()) {
    // Read as int64 first: a value beyond int must not wrap into a plausible one. The range is
    // checked by ParsePreprocessConfig below (1..4096), like every other image size.
    const int64_t declared = config["vision_cfg"]["image_size"].get<int64_t>();
    size = declared < 1 || declared > (1 << 20) ? (1 << 20) + 1 : static_cast<int>(declared);
  }
  fs::path cfg_path =
      IsFile(root / "preprocess_cfg.json") ? root / "preprocess_cfg.json" : root / "visual" / "preprocess_cfg.json";
  std::string resize_mode = "shortest";
  if (IsFile(cfg_path)) {
    nlohmann::json cfg = ReadJsonFile(cfg_path.string());
    try {
      if (cfg.contains("size")) {
        const int64_t declared = cfg["size"].is_array() ? cfg["size"][0].get<int64_t>() : cfg["size"].get<int64_t>();
        size = declared < 1 || declared > (1 << 20) ? (1 << 20) + 1 : static_cast<int>(declared);
      }
      if (cfg.contains("mean")) hf["image_mean"] = cfg["mean"];
      if (cfg.contains("std")) hf["image_std"] = cfg["std"];
      if (cfg.contains("interpolation")) {
        std::string interpolation = cfg["interpolation"].get<std::string>();
        hf["resample"] = interpolation == "bilinear" ? 2 : interpolation == "nearest" ? 0 : 3;
      }
      if (cfg.contains("resize_mode")) resize_mode = cfg["resize_mode"].get<std::string>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(codes::kModelLoad, cfg_path.string() + ": " + e.what());
    }
  }
  if (resize_mode == "squash") {
    hf["size"] = {{"height", size}, {"width", size}};
    hf["do_center_crop"] = false;
  } else {
    hf["size"] = {{"shortest_edge", size}};
    hf["crop_size"] = {{"height", size}, {"width", size}};
  }
  return image::ParsePreprocessConfig(hf);
}

}  // namespace

Precision ParsePrecision(const std::string& name) {
  if (name == "auto" || name.empty()) return Precision::kAuto;
  if (name == "fp32") return Precision::kFp32;
  if (name == "fp16") return Precision::kFp16;
  if (name == "int8") return Precision::kInt8;
  if (name == "q4") return Precision::kQ4;
  throw Error(codes::kInvalidArgument, "precision must be 'auto', 'fp32', 'fp16', 'int8' or 'q4', got '" + name + "'");
}

const char* PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kAuto:
      return "auto";
    case Precision::kFp32:
      return "fp32";
    case Precision::kFp16:
      return "fp16";
    case Precision::kInt8:
      return "int8";
    case Precision::kQ4:
      return "q4";
  }
  return "unknown";
}

static ModelBundle ReadModelBundleUnchecked(const std::string& dir, Precision precision, bool prefer_gpu_precision) {
  CheckPathHasNoNul(dir, "the model directory");
  std::error_code ec;
  fs::path root = fs::absolute(dir, ec);
  if (ec || !fs::is_directory(root, ec)) throw Error(codes::kModelLoad, "model bundle directory not found: " + dir);
  ModelBundle bundle;
  bundle.root = root.string();
  nlohmann::json config = ReadJsonFile(RequireFile(root, "config.json"));

  // Which layout, and which ONNX files.
  const fs::path onnx_dir = root / "onnx";
  std::vector<std::pair<fs::path, std::string>> stems;
  if (IsFile(root / "visual" / "model.onnx") || IsFile(root / "textual" / "model.onnx")) {
    bundle.layout = BundleLayout::kOpenClip;
    stems = {{root / "visual", "model"}, {root / "textual", "model"}};
  } else if (!PresentPrecisions({{onnx_dir, "vision_model"}, {onnx_dir, "text_model"}}).empty()) {
    stems = {{onnx_dir, "vision_model"}, {onnx_dir, "text_model"}};
  } else if (!PresentPrecisions({{onnx_dir, "model"}}).empty()) {
    stems = {{onnx_dir, "model"}};
  } else {
    throw Error(codes::kModelLoad, "model bundle " + bundle.root +
                                       " has no onnx/vision_model.onnx + onnx/text_model.onnx, no combined "
                                       "onnx/model.onnx and no visual/model.onnx + textual/model.onnx");
  }
  std::vector<Precision> present = PresentPrecisions(stems);
  if (present.empty()) {
    for (const auto& [stem_dir, stem] : stems) RequireFile(stem_dir, stem + ".onnx");  // names the missing one
  }
  for (Precision p : present) bundle.available_precisions.push_back(PrecisionName(p));
  bundle.precision = ChoosePrecision(present, precision, prefer_gpu_precision, bundle.root);
  if (stems.size() == 2) {
    bundle.vision_model_path = FindVariant(stems[0].first, stems[0].second, bundle.precision);
    bundle.text_model_path = FindVariant(stems[1].first, stems[1].second, bundle.precision);
  } else {
    bundle.combined_model_path = FindVariant(stems[0].first, stems[0].second, bundle.precision);
  }

  try {
    if (bundle.layout == BundleLayout::kOpenClip) {
      bundle.model_type = "open_clip";
      if (config.contains("text_cfg") && config["text_cfg"].contains("context_length")) {
        bundle.context_length = config["text_cfg"]["context_length"].get<size_t>();
      }
      // open_clip's own CLIP text towers are causal with end-token pooling; Hugging Face text
      // encoders plugged into open_clip (text_cfg.hf_model_name) are not.
      bundle.text_padding_trimmable = !(config.contains("text_cfg") && config["text_cfg"].contains("hf_model_name"));
      bundle.preprocess = OpenClipPreprocess(root, config);
    } else {
      bundle.model_type = config.value("model_type", "");
      if (config.contains("logit_scale_init_value") && config["logit_scale_init_value"].is_number()) {
        bundle.logit_scale = std::exp(config["logit_scale_init_value"].get<double>());
      }
      if (config.contains("text_config") && config["text_config"].is_object()) {
        const auto& text = config["text_config"];
        if (text.contains("max_position_embeddings") && text["max_position_embeddings"].is_number_unsigned()) {
          bundle.context_length = text["max_position_embeddings"].get<size_t>();
        }
      }
      bundle.text_padding_trimmable = bundle.model_type == "clip";
      bundle.preprocess = image::ParsePreprocessConfig(ReadJsonFile(RequireFile(root, "preprocessor_config.json")));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(codes::kModelLoad, bundle.root + "/config.json: " + e.what());
  }

  if (IsFile(root / "tokenizer_config.json")) {
    nlohmann::json tokenizer_config = ReadJsonFile((root / "tokenizer_config.json").string());
    if (tokenizer_config.contains("model_max_length") && tokenizer_config["model_max_length"].is_number_unsigned()) {
      size_t max_length = tokenizer_config["model_max_length"].get<size_t>();
      // Some exports write a huge sentinel (1e30) meaning "no limit": keep the model's own length.
      if (max_length > 0 && max_length < bundle.context_length) bundle.context_length = max_length;
    }
  }
  if (bundle.context_length < 2) {
    throw Error(codes::kModelLoad, bundle.root + ": context length must leave room for start and end tokens");
  }
  // Values read from files are bounded like options are: the context length sizes every text
  // batch (rows x context ids and mask), so a config declaring 10^12 must fail here, typed.
  if (bundle.context_length > text::kMaxContextLength) {
    throw Error(codes::kModelLoad, bundle.root + ": context length " + std::to_string(bundle.context_length) +
                                       " is more than the limit of " + std::to_string(text::kMaxContextLength));
  }

  XxHash64 hash;
  for (const std::string* path : {&bundle.vision_model_path, &bundle.text_model_path, &bundle.combined_model_path}) {
    if (path->empty()) continue;
    hash.Update("onnx:");
    HashFile(hash, *path);
  }
  hash.Update("preprocess:" + DescribePreprocess(bundle.preprocess));
  // Every tokenizer file a bundle may carry; whichever the tokenizer factory uses is among them.
  for (const char* name : {"vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "spiece.model",
                           "sentencepiece.bpe.model", "bpe_simple_vocab_16e6.txt", "bpe_simple_vocab_16e6.txt.gz"}) {
    if (!IsFile(root / name)) continue;
    hash.Update(std::string("tokenizer:") + name + ":");
    HashFile(hash, (root / name).string());
  }
  hash.Update("context:" + std::to_string(bundle.context_length));
  bundle.fingerprint = hash.HexDigest();
  return bundle;
}

ModelBundle ReadModelBundle(const std::string& dir, Precision precision, bool prefer_gpu_precision) {
  return RethrowJsonErrors(codes::kModelLoad, "model bundle " + dir,
                           [&] { return ReadModelBundleUnchecked(dir, precision, prefer_gpu_precision); });
}

}  // namespace crossmodal::model
