#include "text/unigram_tokenizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "common/error.h"
#include "common/file_util.h"
#include "text/clip_text_normalizer.h"
#include "text/utf8.h"

namespace crossmodal::text {
namespace {

using Json = nlohmann::json;

size_t Utf8Len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// --- SentencePiece precompiled charsmap: <uint32 trie size><darts-clone double array><strings> ---
class PrecompiledCharsmap {
 public:
  PrecompiledCharsmap(const std::string& blob, const std::string& where) {
    if (blob.empty()) return;
    if (blob.size() < 4) throw Error(codes::kModelLoad, where + ": precompiled_charsmap is truncated");
    uint32_t trie_size = 0;
    std::memcpy(&trie_size, blob.data(), 4);  // little-endian, like SentencePiece writes it
    if (trie_size % 4 != 0 || 4 + static_cast<size_t>(trie_size) > blob.size()) {
      throw Error(codes::kModelLoad, where + ": precompiled_charsmap has a bad trie size");
    }
    units_.resize(trie_size / 4);
    std::memcpy(units_.data(), blob.data() + 4, trie_size);
    normalized_ = blob.substr(4 + trie_size);
  }

  bool empty() const { return units_.empty(); }

  // Longest replacement matching a prefix of `in` (SentencePiece Normalizer::NormalizePrefix).
  // Returns the matched byte length (0: none) and the replacement.
  size_t LongestMatch(std::string_view in, std::string_view* replacement) const {
    size_t best_len = 0;
    uint32_t best_value = 0;
    size_t node = 0;
    uint32_t unit = Unit(node);
    node ^= Offset(unit);
    for (size_t i = 0; i < in.size(); ++i) {
      const auto c = static_cast<unsigned char>(in[i]);
      node ^= c;
      if (node >= units_.size()) break;
      unit = units_[node];
      if (Label(unit) != c) break;
      node ^= Offset(unit);
      if (HasLeaf(unit)) {
        if (node >= units_.size()) break;
        best_len = i + 1;
        best_value = Value(units_[node]);
      }
    }
    if (best_len == 0) return 0;
    if (best_value >= normalized_.size()) return 0;
    const char* s = normalized_.data() + best_value;
    *replacement = std::string_view(s, strnlen(s, normalized_.size() - best_value));
    return best_len;
  }

 private:
  uint32_t Unit(size_t i) const { return i < units_.size() ? units_[i] : 0; }
  static bool HasLeaf(uint32_t u) { return ((u >> 8) & 1) != 0; }
  static uint32_t Value(uint32_t u) { return u & ((1U << 31) - 1); }
  static uint32_t Label(uint32_t u) { return u & ((1U << 31) | 0xFF); }
  static uint32_t Offset(uint32_t u) { return (u >> 10) << ((u & (1U << 9)) >> 6); }

  std::vector<uint32_t> units_;
  std::string normalized_;
};

std::string Base64Decode(const std::string& in, const std::string& where) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    const size_t v = kAlphabet.find(c);
    if (v == std::string::npos) throw Error(codes::kModelLoad, where + ": precompiled_charsmap is not base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

// One normalizer step of tokenizer.json.
struct NormalizerStep {
  enum class Kind { kPrecompiled, kReplaceLiteral, kCollapseRuns, kLowercase, kStrip, kPrepend, kUnicode };
  Kind kind;
  std::shared_ptr<PrecompiledCharsmap> charsmap;
  std::string pattern, content;  // kReplaceLiteral; kCollapseRuns: pattern = the repeated char, min run in `min_run`
  size_t min_run = 2;
  bool left = true, right = true;  // kStrip
  int utf8proc_options = 0;        // kUnicode
};

std::string ApplyStep(const NormalizerStep& step, std::string text) {
  switch (step.kind) {
    case NormalizerStep::Kind::kPrecompiled: {
      if (step.charsmap->empty()) return text;
      std::string out;
      out.reserve(text.size());
      size_t pos = 0;
      while (pos < text.size()) {
        std::string_view rep;
        const size_t n = step.charsmap->LongestMatch(std::string_view(text).substr(pos), &rep);
        if (n > 0) {
          out.append(rep.data(), rep.size());
          pos += n;
        } else {
          const size_t len = std::min(Utf8Len(static_cast<unsigned char>(text[pos])), text.size() - pos);
          out.append(text, pos, len);
          pos += len;
        }
      }
      return out;
    }
    case NormalizerStep::Kind::kReplaceLiteral: {
      if (step.pattern.empty()) return text;
      std::string out;
      size_t pos = 0;
      while (true) {
        const size_t f = text.find(step.pattern, pos);
        if (f == std::string::npos) break;
        out.append(text, pos, f - pos);
        out += step.content;
        pos = f + step.pattern.size();
      }
      out.append(text, pos, std::string::npos);
      return out;
    }
    case NormalizerStep::Kind::kCollapseRuns: {
      std::string out;
      size_t pos = 0;
      const std::string& c = step.pattern;
      while (pos < text.size()) {
        size_t run = 0, p = pos;
        while (text.compare(p, c.size(), c) == 0) {
          ++run;
          p += c.size();
        }
        if (run >= step.min_run) {
          out += step.content;
          pos = p;
        } else if (run > 0) {
          out.append(text, pos, p - pos);
          pos = p;
        } else {
          out.push_back(text[pos++]);
        }
      }
      return out;
    }
    case NormalizerStep::Kind::kLowercase:
      return EncodeUtf8(PythonLower(DecodeUtf8(text)));
    case NormalizerStep::Kind::kStrip: {
      std::u32string cps = DecodeUtf8(text);
      size_t b = 0, e = cps.size();
      if (step.left)
        while (b < e && IsRegexSpace(cps[b])) ++b;
      if (step.right)
        while (e > b && IsRegexSpace(cps[e - 1])) --e;
      return EncodeUtf8(std::u32string_view(cps).substr(b, e - b));
    }
    case NormalizerStep::Kind::kPrepend:
      return text.empty() ? text : step.content + text;
    case NormalizerStep::Kind::kUnicode: {
      utf8proc_uint8_t* mapped = nullptr;
      const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                  static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                                  static_cast<utf8proc_option_t>(step.utf8proc_options));
      if (n < 0) return text;
      std::string out(reinterpret_cast<char*>(mapped), static_cast<size_t>(n));
      std::free(mapped);
      return out;
    }
  }
  return text;
}

}  // namespace

class UnigramTokenizer final : public Tokenizer {
 public:
  UnigramTokenizer(TokenizerSpec spec) : Tokenizer(std::move(spec)) { spec_.kind = "unigram"; }

  void EncodeTokens(std::string_view text, std::vector<int32_t>& out) const override;
  std::string Decode(const int32_t* ids, size_t n, bool skip_special_tokens) const override;
  size_t vocab_size() const override { return pieces_.size(); }
  int32_t TokenToId(std::string_view token) const override {
    auto it = piece_ids_.find(std::string(token));
    return it == piece_ids_.end() ? -1 : it->second;
  }
  std::string IdToToken(int32_t id) const override {
    if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) {
      throw Error(codes::kInvalidArgument, "token id " + std::to_string(id) + " is not in the vocabulary");
    }
    return pieces_[id];
  }

  void Load(const Json& j, const std::string& path, const std::string& pad_token, bool context_explicit);

 private:
  void Viterbi(std::string_view word, std::vector<int32_t>& out) const;

  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int32_t> piece_ids_;
  std::unordered_map<std::string, int32_t> matchable_;  // pieces the segmentation may use
  std::unordered_set<int32_t> special_ids_;
  size_t max_piece_bytes_ = 1;
  int32_t unk_id_ = -1;
  float unk_score_ = 0;
  std::vector<NormalizerStep> normalizers_;
  // Pre-tokenisation.
  bool metaspace_ = false;
  std::string replacement_ = "\xE2\x96\x81";  // U+2581
  bool prepend_ = true;
  bool split_on_replacement_ = true;
  bool whitespace_split_ = false;
};

namespace {

[[noreturn]] void Unsupported(const std::string& path, const std::string& what, const std::string& type) {
  throw Error(codes::kTokenizer, path + ": unsupported tokenizer.json " + what + " type '" + type + "'");
}

void ParseNormalizer(const Json& n, const std::string& path, std::vector<NormalizerStep>& steps) {
  if (n.is_null()) return;
  const std::string type = n.value("type", "");
  if (type == "Sequence") {
    for (const auto& child : n.value("normalizers", Json::array())) ParseNormalizer(child, path, steps);
    return;
  }
  NormalizerStep step{};
  if (type == "Precompiled") {
    step.kind = NormalizerStep::Kind::kPrecompiled;
    const std::string b64 = n.contains("precompiled_charsmap") && n["precompiled_charsmap"].is_string()
                                ? n["precompiled_charsmap"].get<std::string>()
                                : "";
    step.charsmap = std::make_shared<PrecompiledCharsmap>(Base64Decode(b64, path), path);
  } else if (type == "Replace") {
    const Json& pattern = n.value("pattern", Json::object());
    step.content = n.value("content", "");
    if (pattern.contains("String") && pattern["String"].is_string()) {
      step.kind = NormalizerStep::Kind::kReplaceLiteral;
      step.pattern = pattern["String"].get<std::string>();
    } else if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
      // Only the run-collapsing form transformers' converters write: "X{n,}" for one character X.
      const std::string re = pattern["Regex"].get<std::string>();
      const size_t brace = re.find('{');
      const std::u32string head = DecodeUtf8(re.substr(0, brace == std::string::npos ? 0 : brace));
      size_t min_run = 0;
      bool ok = brace != std::string::npos && head.size() == 1 && re.size() > brace + 2 && re.back() == '}' &&
                re[re.size() - 2] == ',' &&
                std::string("\\.^$|?*+()[]{}").find(static_cast<char>(head[0])) == std::string::npos;
      if (ok) {
        const std::string digits = re.substr(brace + 1, re.size() - brace - 3);
        ok = !digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos;
        if (ok) min_run = std::stoul(digits);
      }
      if (!ok || min_run == 0) {
        throw Error(codes::kTokenizer,
                    path + ": unsupported Replace regex '" + re + "' (supported: literal strings and runs \"X{n,}\")");
      }
      step.kind = NormalizerStep::Kind::kCollapseRuns;
      step.pattern = EncodeUtf8(head);
      step.min_run = min_run;
    } else {
      throw Error(codes::kTokenizer, path + ": Replace normalizer without a pattern");
    }
  } else if (type == "Lowercase") {
    step.kind = NormalizerStep::Kind::kLowercase;
  } else if (type == "Strip") {
    step.kind = NormalizerStep::Kind::kStrip;
    step.left = n.value("strip_left", true);
    step.right = n.value("strip_right", true);
  } else if (type == "Prepend") {
    step.kind = NormalizerStep::Kind::kPrepend;
    step.content = n.value("prepend", "");
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    step.kind = NormalizerStep::Kind::kUnicode;
    int o = UTF8PROC_STABLE | (type[2] == 'K' || type.size() == 4 ? 0 : 0);
    const bool compat = type.find('K') != std::string::npos;
    const bool compose = type.back() == 'C';
    o = UTF8PROC_STABLE | (compat ? UTF8PROC_COMPAT : 0) | (compose ? UTF8PROC_COMPOSE : UTF8PROC_DECOMPOSE);
    step.utf8proc_options = o;
  } else {
    Unsupported(path, "normalizer", type.empty() ? n.dump() : type);
  }
  steps.push_back(std::move(step));
}

}  // namespace

void UnigramTokenizer::Load(const Json& j, const std::string& path, const std::string& pad_token,
                            bool context_explicit) {
  const Json& model = j["model"];
  if (model.value("byte_fallback", false)) {
    throw Error(codes::kTokenizer, path + ": Unigram with byte_fallback is not supported");
  }
  if (!model.contains("vocab") || !model["vocab"].is_array() || model["vocab"].empty()) {
    throw Error(codes::kModelLoad, path + ": the Unigram model has no vocab");
  }
  // Special (added) tokens never come out of the segmentation, as in SentencePiece.
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const auto& t : j["added_tokens"]) {
      if (t.value("special", false) && t.contains("id") && t["id"].is_number_integer()) {
        special_ids_.insert(t["id"].get<int32_t>());
      }
    }
  }
  float min_score = std::numeric_limits<float>::max();
  for (const auto& entry : model["vocab"]) {
    if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() || !entry[1].is_number()) {
      throw Error(codes::kModelLoad, path + ": malformed Unigram vocab entry " + entry.dump());
    }
    const int32_t id = static_cast<int32_t>(pieces_.size());
    pieces_.push_back(entry[0].get<std::string>());
    scores_.push_back(entry[1].get<float>());
    piece_ids_.emplace(pieces_.back(), id);
    min_score = std::min(min_score, scores_.back());
  }
  if (model.contains("unk_id") && model["unk_id"].is_number_integer()) {
    unk_id_ = model["unk_id"].get<int32_t>();
    if (unk_id_ < 0 || static_cast<size_t>(unk_id_) >= pieces_.size()) {
      throw Error(codes::kModelLoad, path + ": unk_id out of range");
    }
    special_ids_.insert(unk_id_);
  }
  unk_score_ = min_score - 10.0f;  // SentencePiece's kUnkPenalty
  for (size_t id = 0; id < pieces_.size(); ++id) {
    if (special_ids_.count(static_cast<int32_t>(id)) || pieces_[id].empty()) continue;
    matchable_.emplace(pieces_[id], static_cast<int32_t>(id));
    max_piece_bytes_ = std::max(max_piece_bytes_, pieces_[id].size());
  }

  ParseNormalizer(j.value("normalizer", Json()), path, normalizers_);

  std::vector<Json> pre;
  const Json pt = j.value("pre_tokenizer", Json());
  if (!pt.is_null()) {
    if (pt.value("type", "") == "Sequence") {
      for (const auto& p : pt.value("pretokenizers", Json::array())) pre.push_back(p);
    } else {
      pre.push_back(pt);
    }
  }
  for (const auto& p : pre) {
    const std::string type = p.value("type", "");
    if (type == "Metaspace") {
      metaspace_ = true;
      replacement_ = p.value("replacement", std::string("\xE2\x96\x81"));
      if (p.contains("prepend_scheme") && p["prepend_scheme"].is_string()) {
        const std::string scheme = p["prepend_scheme"].get<std::string>();
        if (scheme != "always" && scheme != "first" && scheme != "never")
          Unsupported(path, "Metaspace prepend_scheme", scheme);
        prepend_ = scheme != "never";  // one sequence: "first" is "always"
      } else {
        prepend_ = p.value("add_prefix_space", true);
      }
      split_on_replacement_ = p.value("split", true);
    } else if (type == "WhitespaceSplit") {
      whitespace_split_ = true;
    } else {
      Unsupported(path, "pre_tokenizer", type.empty() ? p.dump() : type);
    }
  }

  // Special tokens around the text, from the post-processor.
  const Json post = j.value("post_processor", Json());
  if (!post.is_null()) {
    const std::string type = post.value("type", "");
    auto id_of = [&](const std::string& token) {
      auto it = piece_ids_.find(token);
      if (it == piece_ids_.end())
        throw Error(codes::kModelLoad, path + ": special token '" + token + "' is not in the vocab");
      return it->second;
    };
    if (type == "TemplateProcessing") {
      const Json special = post.value("special_tokens", Json::object());
      bool seen_a = false;
      for (const auto& item : post.value("single", Json::array())) {
        if (item.contains("Sequence")) {
          seen_a = true;
          continue;
        }
        if (!item.contains("SpecialToken")) Unsupported(path, "TemplateProcessing item", item.dump());
        const std::string name = item["SpecialToken"].value("id", "");
        int32_t id = -1;
        if (special.contains(name) && special[name].contains("ids") && special[name]["ids"].size() == 1) {
          id = special[name]["ids"][0].get<int32_t>();
        } else {
          id = id_of(name);
        }
        int32_t& slot = seen_a ? spec_.eos_id : spec_.bos_id;
        if (slot >= 0)
          throw Error(codes::kTokenizer, path + ": TemplateProcessing with more than one special token on a side");
        slot = id;
      }
    } else if (type == "RobertaProcessing" || type == "BertProcessing") {
      spec_.bos_id = post["cls"][1].get<int32_t>();
      spec_.eos_id = post["sep"][1].get<int32_t>();
    } else {
      Unsupported(path, "post_processor", type);
    }
  }

  // Padding and length: tokenizer.json's own settings when the bundle's configs named none.
  if (!context_explicit) {
    if (j.contains("truncation") && j["truncation"].is_object() && j["truncation"].contains("max_length")) {
      spec_.context_length = j["truncation"]["max_length"].get<size_t>();
    }
    if (j.contains("padding") && j["padding"].is_object()) {
      const Json& strategy = j["padding"].value("strategy", Json());
      if (strategy.is_object() && strategy.contains("Fixed")) {
        spec_.context_length = strategy["Fixed"].get<size_t>();
        spec_.padding = Padding::kFixed;
      }
    }
    if (spec_.context_length > kMaxContextLength) {
      throw Error(codes::kModelLoad, path + ": declares a context length of " + std::to_string(spec_.context_length) +
                                         ", more than the limit of " + std::to_string(kMaxContextLength));
    }
  }
  spec_.pad_id = 0;
  if (!pad_token.empty()) {
    spec_.pad_id = TokenToId(pad_token);
    if (spec_.pad_id < 0) throw Error(codes::kModelLoad, path + ": pad_token '" + pad_token + "' is not in the vocab");
  } else if (j.contains("padding") && j["padding"].is_object() && j["padding"].contains("pad_id")) {
    spec_.pad_id = j["padding"]["pad_id"].get<int32_t>();
  } else if (TokenToId("<pad>") >= 0) {
    spec_.pad_id = TokenToId("<pad>");
  } else if (spec_.eos_id >= 0) {
    spec_.pad_id = spec_.eos_id;
  }
  if (spec_.context_length < num_specials() + 1) throw Error(codes::kModelLoad, path + ": context length too small");
}

void UnigramTokenizer::Viterbi(std::string_view w, std::vector<int32_t>& out) const {
  if (w.empty()) return;
  const size_t n = w.size();
  // best[i]: best score of a segmentation of w[0..i); back[i] = (start, id) of its last piece.
  thread_local std::vector<float> best;
  thread_local std::vector<int32_t> back_start, back_id;
  best.assign(n + 1, -std::numeric_limits<float>::infinity());
  back_start.assign(n + 1, -1);
  back_id.assign(n + 1, -1);
  best[0] = 0;
  for (size_t i = 0; i < n; ++i) {
    if (best[i] == -std::numeric_limits<float>::infinity()) continue;
    const size_t char_len = std::min(Utf8Len(static_cast<unsigned char>(w[i])), n - i);
    bool has_single = false;
    const size_t limit = std::min(max_piece_bytes_, n - i);
    for (size_t len = char_len; len <= limit;) {
      auto it = matchable_.find(std::string(w.substr(i, len)));
      if (it != matchable_.end()) {
        if (len == char_len) has_single = true;
        const float score = best[i] + scores_[it->second];
        // Exact ties (equal float sums, e.g. "dd"+"d" vs "d"+"dd") keep the first path found; SentencePiece
        // breaks some of them the other way (see test/tokenizer-sentencepiece.test.ts).
        if (score > best[i + len]) {
          best[i + len] = score;
          back_start[i + len] = static_cast<int32_t>(i);
          back_id[i + len] = it->second;
        }
      }
      if (i + len >= n) break;
      len += std::min(Utf8Len(static_cast<unsigned char>(w[i + len])), n - i - len);
    }
    if (!has_single) {
      const float score = best[i] + unk_score_;
      if (score > best[i + char_len]) {
        best[i + char_len] = score;
        back_start[i + char_len] = static_cast<int32_t>(i);
        back_id[i + char_len] = -1;  // unknown
      }
    }
  }
  thread_local std::vector<int32_t> rev;
  rev.clear();
  for (int32_t pos = static_cast<int32_t>(n); pos > 0; pos = back_start[pos]) rev.push_back(back_id[pos]);
  // Consecutive unknown characters become one unk token (SentencePiece / tokenizers' fuse_unk).
  bool prev_unk = false;
  for (auto it = rev.rbegin(); it != rev.rend(); ++it) {
    if (*it < 0) {
      if (!prev_unk) out.push_back(unk_id_ >= 0 ? unk_id_ : 0);
      prev_unk = true;
    } else {
      out.push_back(*it);
      prev_unk = false;
    }
  }
}

void UnigramTokenizer::EncodeTokens(std::string_view text, std::vector<int32_t>& out) const {
  std::string s(text);
  for (const auto& step : normalizers_) s = ApplyStep(step, std::move(s));
  if (s.empty()) return;
  std::vector<std::string_view> words;
  std::string spaced;
  if (metaspace_) {
    spaced.reserve(s.size() + 8);
    if (prepend_ && s.compare(0, replacement_.size(), replacement_) != 0) spaced += replacement_;
    for (char c : s) {
      if (c == ' ') spaced += replacement_;
      else spaced.push_back(c);
    }
    std::string_view all(spaced);
    if (!split_on_replacement_) {
      words.push_back(all);
    } else {
      size_t start = 0;
      while (start < all.size()) {
        size_t next = all.find(replacement_, start + replacement_.size());
        if (next == std::string_view::npos) next = all.size();
        // A word begins at each replacement character (MergedWithNext).
        if (all.compare(start, replacement_.size(), replacement_) != 0) next = all.find(replacement_, start);
        if (next == std::string_view::npos) next = all.size();
        if (next == start) next = all.size();
        words.push_back(all.substr(start, next - start));
        start = next;
      }
    }
  } else {
    spaced = s;
    words.push_back(spaced);
  }
  for (std::string_view word : words) {
    if (!whitespace_split_) {
      Viterbi(word, out);
      continue;
    }
    const std::u32string cps = DecodeUtf8(word);
    size_t b = 0;
    while (b < cps.size()) {
      while (b < cps.size() && IsRegexSpace(cps[b])) ++b;
      size_t e = b;
      while (e < cps.size() && !IsRegexSpace(cps[e])) ++e;
      if (e > b) Viterbi(EncodeUtf8(std::u32string_view(cps).substr(b, e - b)), out);
      b = e;
    }
  }
}

std::string UnigramTokenizer::Decode(const int32_t* ids, size_t n, bool skip_special_tokens) const {
  if (n > 0 && ids == nullptr) throw Error(codes::kInvalidArgument, "ids is null");
  std::string joined;
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = ids[i];
    if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) {
      throw Error(codes::kInvalidArgument, "token id " + std::to_string(id) + " is not in the vocabulary");
    }
    if (skip_special_tokens &&
        (special_ids_.count(id) || id == spec_.bos_id || id == spec_.eos_id || id == spec_.pad_id))
      continue;
    joined += pieces_[id];
  }
  if (!metaspace_) return joined;
  std::string out;
  size_t pos = 0;
  while (pos < joined.size()) {
    if (joined.compare(pos, replacement_.size(), replacement_) == 0) {
      out.push_back(' ');
      pos += replacement_.size();
    } else {
      out.push_back(joined[pos++]);
    }
  }
  if (prepend_ && !out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

std::unique_ptr<Tokenizer> LoadUnigramTokenizerJson(const std::string& path, TokenizerSpec spec,
                                                    const std::string& pad_token, bool context_explicit) {
  Json j = ReadJsonFile(path);
  spec.source = path;
  auto tok = std::make_unique<UnigramTokenizer>(std::move(spec));
  try {
    tok->Load(j, path, pad_token, context_explicit);
  } catch (const Json::exception& e) {
    throw Error(codes::kModelLoad, path + ": " + e.what());
  }
  return tok;
}

}  // namespace crossmodal::text
