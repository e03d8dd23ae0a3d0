#include "text/tokenizer_factory.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "text/clip_tokenizer.h"
#include "text/sentencepiece_tokenizer.h"
#include "text/unigram_tokenizer.h"

namespace fs = std::filesystem;

namespace crossmodal::text {
namespace {

enum class Family { kUnknown, kClip, kSiglip, kXlmRoberta, kSentencePiece };

nlohmann::json ReadJson(const fs::path& path) { return ReadJsonFile(path.string()); }

// Absent: false. A FIFO, device or directory under a tokenizer file's name: ERR_IO (file_util.h).
bool IsFile(const fs::path& p) { return RegularFileExists(p.string()); }

// A token in tokenizer_config.json is a string or an AddedToken object {"content": ...}.
std::string TokenString(const nlohmann::json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) return {};
  const auto& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return {};
}

bool BoolOr(const nlohmann::json& config, const char* key, bool fallback) {
  if (config.is_object() && config.contains(key) && config[key].is_boolean()) return config[key].get<bool>();
  return fallback;
}

std::string FirstExisting(const fs::path& root, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (IsFile(root / n)) return (root / n).string();
  }
  return {};
}

}  // namespace

static std::unique_ptr<Tokenizer> LoadTokenizerUnchecked(const std::string& dir, const TokenizerLoadOptions& options) {
  CheckPathHasNoNul(dir, "the tokenizer directory");
  std::error_code ec;
  const fs::path root = fs::absolute(dir, ec);
  if (ec || !fs::is_directory(root, ec)) throw Error(codes::kModelLoad, "tokenizer directory not found: " + dir);

  nlohmann::json config = IsFile(root / "config.json") ? ReadJson(root / "config.json") : nlohmann::json::object();
  nlohmann::json tconfig =
      IsFile(root / "tokenizer_config.json") ? ReadJson(root / "tokenizer_config.json") : nlohmann::json::object();
  if (!config.is_object()) config = nlohmann::json::object();
  if (!tconfig.is_object()) tconfig = nlohmann::json::object();

  // --- which family ---
  std::string tclass = tconfig.value("tokenizer_class", "");
  std::string bare = tclass;
  if (bare.size() > 4 && bare.compare(bare.size() - 4, 4, "Fast") == 0) bare.resize(bare.size() - 4);
  const std::string model_type = config.value("model_type", "");
  Family family = Family::kUnknown;
  if (!bare.empty()) {
    if (bare == "CLIPTokenizer") family = Family::kClip;
    else if (bare == "SiglipTokenizer") family = Family::kSiglip;
    else if (bare == "XLMRobertaTokenizer") family = Family::kXlmRoberta;
    else if (bare == "GemmaTokenizer" || bare == "T5Tokenizer" || bare == "LlamaTokenizer")
      family = Family::kSentencePiece;
    else {
      throw Error(codes::kTokenizer, root.string() + ": unsupported tokenizer type '" + tclass +
                                         "' (tokenizer_config.json tokenizer_class); supported: CLIPTokenizer, "
                                         "SiglipTokenizer, XLMRobertaTokenizer, GemmaTokenizer, T5Tokenizer, "
                                         "LlamaTokenizer, or a tokenizer.json with a BPE or Unigram model");
    }
  } else if (model_type == "clip") {
    family = Family::kClip;
  } else if (model_type == "siglip") {
    family = Family::kSiglip;
  } else if (model_type == "xlm-roberta") {
    family = Family::kXlmRoberta;
  }

  // --- context length ---
  size_t context = family == Family::kSiglip ? 64 : family == Family::kXlmRoberta ? 512 : 77;
  const nlohmann::json* text_config = config.contains("text_config") && config["text_config"].is_object()
                                          ? &config["text_config"]
                                          : (model_type == "xlm-roberta" ? &config : nullptr);
  if (text_config && text_config->contains("max_position_embeddings") &&
      (*text_config)["max_position_embeddings"].is_number_unsigned()) {
    size_t positions = (*text_config)["max_position_embeddings"].get<size_t>();
    if (family == Family::kXlmRoberta && positions > 2) positions -= 2;
    if (positions > 0) context = positions;
  }
  if (tconfig.contains("model_max_length") && tconfig["model_max_length"].is_number_unsigned()) {
    const size_t max_length = tconfig["model_max_length"].get<size_t>();
    if (max_length > 0 && max_length < context) context = max_length;
  }
  if (options.context_length == 0 && context > kMaxContextLength) {
    throw Error(codes::kModelLoad, dir + ": the bundle declares a context length of " + std::to_string(context) +
                                       ", more than the limit of " + std::to_string(kMaxContextLength));
  }
  if (options.context_length > 0) context = options.context_length;
  // Whether anything besides the family default set the length (a tokenizer.json may then supply it).
  const bool context_explicit = options.context_length > 0 || family != Family::kUnknown ||
                                tconfig.contains("model_max_length") || text_config != nullptr;

  TokenizerSpec spec;
  spec.context_length = context;
  spec.padding = family == Family::kSiglip || model_type == "siglip" || model_type == "siglip2" ? Padding::kFixed
                                                                                                : Padding::kTrimmable;
  const std::string pad_token = TokenString(tconfig, "pad_token");

  auto finish_clip = [&](std::unique_ptr<ClipTokenizer> tok) -> std::unique_ptr<Tokenizer> {
    // OpenAI's reference pads with 0; a bundle naming a pad token gets that token's id. Either is
    // harmless for a causal tower pooled at the first end token.
    tok->set_pad_id(0);
    if (!pad_token.empty()) {
      const int32_t id = tok->TokenToId(pad_token);
      if (id < 0)
        throw Error(codes::kModelLoad, root.string() + ": pad_token '" + pad_token + "' is not in the vocabulary");
      tok->set_pad_id(id);
    }
    if (tok->context_length() < 2)
      throw Error(codes::kModelLoad, root.string() + ": context length must be at least 2");
    return tok;
  };
  auto load_tokenizer_json = [&](const std::string& path) -> std::unique_ptr<Tokenizer> {
    nlohmann::json j = ReadJson(path);
    std::string type =
        j.is_object() && j.contains("model") && j["model"].is_object() ? j["model"].value("type", "") : "";
    if (type.empty() && j.is_object() && j.contains("model") && j["model"].is_object()) {
      // Older exports omit "type"; infer it from the model's fields as tokenizers does.
      const auto& m = j["model"];
      if (m.contains("merges")) type = "BPE";
      else if (m.contains("vocab") && m["vocab"].is_array()) type = "Unigram";
    }
    if (type == "BPE") return finish_clip(ClipTokenizer::FromTokenizerJson(path, spec));
    if (type == "Unigram") return LoadUnigramTokenizerJson(path, spec, pad_token, context_explicit);
    throw Error(codes::kTokenizer, path + ": unsupported tokenizer type '" + (type.empty() ? "(none)" : type) +
                                       "' (tokenizer.json model.type); supported: BPE (CLIP), Unigram");
  };
  auto load_clip = [&]() -> std::unique_ptr<Tokenizer> {
    if (IsFile(root / "vocab.json") && IsFile(root / "merges.txt")) {
      return finish_clip(
          ClipTokenizer::FromVocabAndMerges((root / "vocab.json").string(), (root / "merges.txt").string(), spec));
    }
    std::string simple = FirstExisting(root, {"bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt"});
    if (!simple.empty()) return finish_clip(ClipTokenizer::FromBpeSimpleVocab(simple, spec));
    if (IsFile(root / "tokenizer.json")) return load_tokenizer_json((root / "tokenizer.json").string());
    return nullptr;
  };
  auto load_spm = [&](SentencePieceTokenizer::Flavor flavor) -> std::unique_ptr<Tokenizer> {
    std::string model = FirstExisting(root, {"spiece.model", "sentencepiece.bpe.model", "tokenizer.model"});
    if (model.empty()) {
      if (IsFile(root / "tokenizer.json")) return load_tokenizer_json((root / "tokenizer.json").string());
      return nullptr;
    }
    SentencePieceTokenizer::Options o;
    o.flavor = flavor;
    o.pad_token = pad_token;
    o.eos_token = TokenString(tconfig, "eos_token");
    if (flavor == SentencePieceTokenizer::Flavor::kSiglip) {
      o.lowercase = BoolOr(tconfig, "do_lower_case", true);
    } else {
      o.lowercase = BoolOr(tconfig, "do_lower_case", false);
      const bool gemma_like = bare == "GemmaTokenizer" || bare == "LlamaTokenizer";
      o.add_bos = BoolOr(tconfig, "add_bos_token", gemma_like);
      o.add_eos = BoolOr(tconfig, "add_eos_token", bare == "T5Tokenizer");
    }
    return SentencePieceTokenizer::Load(model, o, spec);
  };

  std::unique_ptr<Tokenizer> result;
  switch (family) {
    case Family::kClip:
      result = load_clip();
      break;
    case Family::kSiglip:
      result = load_spm(SentencePieceTokenizer::Flavor::kSiglip);
      break;
    case Family::kXlmRoberta:
      result = load_spm(SentencePieceTokenizer::Flavor::kXlmRoberta);
      break;
    case Family::kSentencePiece:
      result = load_spm(SentencePieceTokenizer::Flavor::kPlain);
      break;
    case Family::kUnknown:
      if (IsFile(root / "vocab.json") && IsFile(root / "merges.txt")) result = load_clip();
      else if (!FirstExisting(root, {"bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt"}).empty())
        result = load_clip();
      else if (!FirstExisting(root, {"spiece.model", "sentencepiece.bpe.model", "tokenizer.model"}).empty())
        result = load_spm(SentencePieceTokenizer::Flavor::kPlain);
      else if (IsFile(root / "tokenizer.json")) result = load_tokenizer_json((root / "tokenizer.json").string());
      break;
  }
  if (!result) {
    throw Error(codes::kModelLoad,
                root.string() + " has no tokenizer files" + (tclass.empty() ? "" : " for " + tclass) +
                    " (looked for vocab.json + merges.txt, bpe_simple_vocab_16e6.txt[.gz], tokenizer.json, "
                    "spiece.model, sentencepiece.bpe.model, tokenizer.model)");
  }
  return result;
}

std::unique_ptr<Tokenizer> LoadTokenizer(const std::string& dir, const TokenizerLoadOptions& options) {
  return RethrowJsonErrors(codes::kModelLoad, "tokenizer files in " + dir,
                           [&] { return LoadTokenizerUnchecked(dir, options); });
}

}  // namespace crossmodal::text
