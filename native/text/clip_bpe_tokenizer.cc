#include "clip_bpe_tokenizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <fstream>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <queue>
#include <sstream>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "../common/error.h"
#include "../common/file_util.h"
#include "clip_text_normalizer.h"
#include "utf8.h"

namespace crossmodal::text {

namespace {

constexpr const char* kStartOfText = "<|startoftext|>";
constexpr const char* kEndOfText = "<|endoftext|>";
constexpr const char* kWordEnd = "</w>";
// Words of at most this many bytes use the simple array BPE; longer ones the
// O(n log n) heap BPE (both exact; the simple one is faster for short words).
constexpr size_t kSmallWord = 64;

// ---------------------------------------------------------------------------------
// bytes_to_unicode() of the reference.
std::array<char32_t, 256> BytesToUnicode() {
  std::array<char32_t, 256> table{};
  std::array<bool, 256> direct{};
  for (int b = '!'; b <= '~'; ++b) direct[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    if (direct[b]) {
      table[b] = static_cast<char32_t>(b);
    } else {
      table[b] = static_cast<char32_t>(256 + n);
      ++n;
    }
  }
  return table;
}

uint64_t HashBytes(std::string_view s) {
  // FNV-1a with a final avalanche (murmur3 fmix64).
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// ---------------------------------------------------------------------------------
// (left id, right id) -> (rank, merged id): open addressing, linear probing.
class MergeTable {
 public:
  struct Value {
    int32_t rank;
    int32_t merged;
  };

  void Reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    keys_.assign(cap, kEmpty);
    values_.assign(cap, Value{0, 0});
    mask_ = cap - 1;
    shift_ = 64;
    for (size_t c = cap; c > 1; c >>= 1) --shift_;
  }

  // Inserts or overwrites (Python dict semantics: a repeated pair keeps its last rank).
  void Put(int32_t a, int32_t b, Value v) {
    const uint64_t key = Key(a, b);
    size_t i = Slot(key);
    while (keys_[i] != kEmpty && keys_[i] != key) i = (i + 1) & mask_;
    if (keys_[i] == kEmpty) ++size_;
    keys_[i] = key;
    values_[i] = v;
  }

  const Value* Find(int32_t a, int32_t b) const {
    const uint64_t key = Key(a, b);
    size_t i = Slot(key);
    while (true) {
      const uint64_t k = keys_[i];
      if (k == key) return &values_[i];
      if (k == kEmpty) return nullptr;
      i = (i + 1) & mask_;
    }
  }

  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~0ULL;
  static uint64_t Key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  size_t Slot(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_) & mask_; }

  std::vector<uint64_t> keys_;
  std::vector<Value> values_;
  size_t mask_ = 0;
  int shift_ = 60;
  size_t size_ = 0;
};

// ---------------------------------------------------------------------------------
// Sharded, bounded LRU cache: word bytes -> token ids. Each shard has its own mutex;
// entries are keyed by a 64-bit hash and verified against the stored word, so lookups
// allocate nothing. When a shard is full its least recently used node is recycled.
class WordCache {
 public:
  WordCache(size_t capacity, size_t shards) : capacity_(capacity) {
    size_t n = 1;
    while (n < shards && n < capacity) n <<= 1;
    shard_mask_ = n - 1;
    shards_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      shards_.push_back(std::make_unique<Shard>());
      // Shard capacities add up to exactly `capacity` (each >= 1 since n <= capacity).
      shards_.back()->capacity = capacity / n + (i < capacity % n ? 1 : 0);
    }
  }

  bool Lookup(std::string_view key, uint64_t h, std::vector<int32_t>& out) {
    Shard& s = ShardFor(h);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.index.find(h);
    if (it == s.index.end() || it->second->key != key) {
      ++s.misses;
      return false;
    }
    ++s.hits;
    if (it->second != s.lru.begin()) s.lru.splice(s.lru.begin(), s.lru, it->second);
    const std::vector<int32_t>& ids = it->second->ids;
    out.insert(out.end(), ids.begin(), ids.end());
    return true;
  }

  void Insert(std::string_view key, uint64_t h, const int32_t* ids, size_t n) {
    Shard& s = ShardFor(h);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.index.find(h);
    if (it != s.index.end()) {
      // Present (another thread got there first) or a hash collision: overwrite.
      Entry& e = *it->second;
      if (e.key != key) {
        e.key.assign(key.data(), key.size());
        e.ids.assign(ids, ids + n);
      }
      if (it->second != s.lru.begin()) s.lru.splice(s.lru.begin(), s.lru, it->second);
      return;
    }
    if (s.lru.size() >= s.capacity) {
      auto last = std::prev(s.lru.end());
      s.index.erase(last->hash);
      last->hash = h;
      last->key.assign(key.data(), key.size());
      last->ids.assign(ids, ids + n);
      s.lru.splice(s.lru.begin(), s.lru, last);
    } else {
      s.lru.push_front(Entry{h, std::string(key), std::vector<int32_t>(ids, ids + n)});
    }
    s.index[h] = s.lru.begin();
  }

  void Clear() {
    for (auto& sp : shards_) {
      std::lock_guard<std::mutex> lock(sp->mu);
      sp->index.clear();
      sp->lru.clear();
    }
  }

  ClipBpeTokenizer::CacheStats Stats() const {
    ClipBpeTokenizer::CacheStats st;
    st.capacity = capacity_;
    for (const auto& sp : shards_) {
      std::lock_guard<std::mutex> lock(sp->mu);
      st.size += sp->lru.size();
      st.hits += sp->hits;
      st.misses += sp->misses;
    }
    return st;
  }

 private:
  struct Entry {
    uint64_t hash;
    std::string key;
    std::vector<int32_t> ids;
  };
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // front = most recently used
    std::unordered_map<uint64_t, std::list<Entry>::iterator> index;
    size_t capacity = 0;
    uint64_t hits = 0;
    uint64_t misses = 0;
  };

  Shard& ShardFor(uint64_t h) { return *shards_[(h >> 48) & shard_mask_]; }

  size_t capacity_;
  size_t shard_mask_ = 0;
  std::vector<std::unique_ptr<Shard>> shards_;
};

// ---------------------------------------------------------------------------------
// Pre-tokenisation character classes (see header).
enum class CharClass : uint8_t { kLetter, kNumber, kSpace, kOther, kSkip };

struct AsciiClassTable {
  CharClass cls[128];
  constexpr AsciiClassTable() : cls() {
    for (int c = 0; c < 128; ++c) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) cls[c] = CharClass::kLetter;
      else if (c >= '0' && c <= '9') cls[c] = CharClass::kNumber;
      else if (c == ' ' || (c >= 0x09 && c <= 0x0D)) cls[c] = CharClass::kSpace;
      else cls[c] = CharClass::kOther;
    }
  }
};
constexpr AsciiClassTable kAsciiClass;

CharClass Classify(char32_t c) {
  if (c < 0x80) return kAsciiClass.cls[c];
  if (IsRegexSpace(c)) return CharClass::kSpace;
  if (c == 0x0345) return CharClass::kSkip;  // IGNORECASE quirk of the `regex` module
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CharClass::kLetter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kNumber;
    default:
      return CharClass::kOther;
  }
}

// Case-insensitive (regex.IGNORECASE, simple case folding) match of an ASCII literal.
// Among the pattern's literal characters only 's' has a non-ASCII case variant: U+017F.
// Works on code points (char32_t) and, for all-ASCII text, directly on bytes (char).
template <typename CharT>
bool LiteralAt(std::basic_string_view<CharT> t, size_t pos, std::string_view lit) {
  if (t.size() - pos < lit.size()) return false;
  for (size_t k = 0; k < lit.size(); ++k) {
    const char32_t c = static_cast<char32_t>(static_cast<std::make_unsigned_t<CharT>>(t[pos + k]));
    const char32_t l = static_cast<unsigned char>(lit[k]);
    if (c == l) continue;
    if (l >= 'a' && l <= 'z' && (c == l - 32 || (l == 's' && c == 0x017F))) continue;
    return false;
  }
  return true;
}

// Length (in code points) of the pre-token starting at pos, or 0 if no alternative
// matches there (the scanner then skips one character, like re.findall).
template <typename CharT>
size_t MatchAt(std::basic_string_view<CharT> t, size_t pos) {
  auto cp = [&](size_t i) { return static_cast<char32_t>(static_cast<std::make_unsigned_t<CharT>>(t[i])); };
  const char32_t c = cp(pos);
  if (c == U'<') {
    if (LiteralAt(t, pos, "<|startoftext|>")) return 15;
    if (LiteralAt(t, pos, "<|endoftext|>")) return 13;
  } else if (c == U'\'') {
    static constexpr std::string_view kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    for (std::string_view k : kContractions) {
      if (LiteralAt(t, pos, k)) return k.size();
    }
  }
  const CharClass cls = Classify(c);
  switch (cls) {
    case CharClass::kNumber:
      return 1;
    case CharClass::kLetter:
    case CharClass::kOther: {
      size_t e = pos + 1;
      while (e < t.size() && Classify(cp(e)) == cls) ++e;
      return e - pos;
    }
    default:
      return 0;
  }
}

// Python str.isspace() / regex `\s` restricted to ASCII.
constexpr bool IsAsciiPythonSpace(unsigned char c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
}
constexpr bool IsAsciiRegexSpace(unsigned char c) { return c == ' ' || (c >= 0x09 && c <= 0x0D); }

// NormalizeClipText for ASCII text without '&' (no HTML reference can occur, every lowercase
// mapping is ASCII): strip (str.isspace), collapse runs of regex \s to ' ', strip, lower.
// Returns false (and leaves `out` unspecified) when the fast path does not apply.
bool NormalizeAsciiFast(std::string_view in, std::string& out) {
  for (unsigned char c : in) {
    if (c >= 0x80 || c == '&') return false;
  }
  size_t b = 0, e = in.size();
  while (b < e && IsAsciiPythonSpace(static_cast<unsigned char>(in[b]))) ++b;
  while (e > b && IsAsciiPythonSpace(static_cast<unsigned char>(in[e - 1]))) --e;
  out.clear();
  for (size_t i = b; i < e;) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (IsAsciiRegexSpace(c)) {
      while (i < e && IsAsciiRegexSpace(static_cast<unsigned char>(in[i]))) ++i;
      out.push_back(' ');
      continue;
    }
    out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    ++i;
  }
  size_t ob = 0, oe = out.size();
  while (ob < oe && IsAsciiPythonSpace(static_cast<unsigned char>(out[ob]))) ++ob;
  while (oe > ob && IsAsciiPythonSpace(static_cast<unsigned char>(out[oe - 1]))) --oe;
  if (ob > 0 || oe < out.size()) out = out.substr(ob, oe - ob);
  return true;
}

struct FrontEntry {
  uint64_t owner = 0;
  uint64_t hash = 0;
  std::string word;
  std::vector<int32_t> ids;
};

struct Scratch {
  std::vector<FrontEntry> front;  // the per-thread front cache (allocated on first use)
  std::string ascii;
  std::u32string input;
  std::u32string norm;
  std::u32string tmp;
  std::string word;
};

Scratch& ThreadScratch() {
  thread_local Scratch s;
  return s;
}

std::string ReadFileOrThrow(const std::string& path, const char* what) {
  try {
    return ReadFileToString(path);  // refuses FIFOs, devices and directories (common/file_util.h)
  } catch (const Error& e) {
    throw Error(e.code(), std::string(what) + " file: " + e.what());
  }
}

}  // namespace

// ===================================================================================

// Per-thread, direct-mapped front cache in front of the shared LRU: repeated words are served
// without taking a lock or touching shared memory (the shared cache's mutex, hash map and list
// splice were a quarter of the time on short captions). Entries carry the owning tokenizer's id
// (unique per tokenizer for the process lifetime), so tokenizers sharing a thread never see each
// other's entries. Bounded: kFrontSlots entries of at most max_cached_word_bytes per thread.
constexpr size_t kFrontSlots = 16384;
std::atomic<uint64_t> g_next_owner{1};

struct ClipBpeTokenizer::Impl {
  const uint64_t owner = g_next_owner.fetch_add(1);
  std::unordered_map<std::string, int32_t> vocab;
  std::vector<std::string> id_to_token;  // "" for ids not used by the vocab
  std::vector<uint8_t> id_present;
  std::vector<std::string> id_bytes;  // decoded bytes ("</w>" kept literally)
  std::vector<uint8_t> id_decodable;  // all symbols are bytes_to_unicode chars
  int32_t byte_sym[256] = {};
  int32_t byte_end_sym[256] = {};
  MergeTable merges;
  std::unique_ptr<WordCache> cache;
  size_t max_cached_word_bytes = 0;
  int32_t sot = -1;
  int32_t eot = -1;

  void BpeSmall(const unsigned char* b, size_t n, std::vector<int32_t>& out) const;
  void BpeHeap(const unsigned char* b, size_t n, std::vector<int32_t>& out) const;
  void Bpe(std::string_view word, std::vector<int32_t>& out) const {
    const auto* b = reinterpret_cast<const unsigned char*>(word.data());
    if (word.size() <= kSmallWord) BpeSmall(b, word.size(), out);
    else BpeHeap(b, word.size(), out);
  }
  // `front`: this thread's front cache (kFrontSlots entries), fetched once per text because
  // every thread_local access in a shared library is a __tls_get_addr call.
  void EmitWord(std::string_view word, std::vector<int32_t>& out, FrontEntry* front) const;
};

void ClipBpeTokenizer::Impl::BpeSmall(const unsigned char* b, size_t n, std::vector<int32_t>& out) const {
  int32_t stack_buf[kSmallWord];
  std::vector<int32_t> heap_buf;
  int32_t* syms = stack_buf;
  if (n > kSmallWord) {
    heap_buf.resize(n);
    syms = heap_buf.data();
  }
  for (size_t i = 0; i + 1 < n; ++i) syms[i] = byte_sym[b[i]];
  syms[n - 1] = byte_end_sym[b[n - 1]];
  while (n > 1) {
    // bigram = min(pairs, key=rank)
    int32_t best_rank = INT32_MAX, best_merged = -1, first = -1, second = -1;
    for (size_t i = 0; i + 1 < n; ++i) {
      const MergeTable::Value* v = merges.Find(syms[i], syms[i + 1]);
      if (v != nullptr && v->rank < best_rank) {
        best_rank = v->rank;
        best_merged = v->merged;
        first = syms[i];
        second = syms[i + 1];
      }
    }
    if (best_merged < 0) break;
    // Merge every occurrence, left to right, non-overlapping.
    size_t w = 0, i = 0;
    while (i < n) {
      if (i + 1 < n && syms[i] == first && syms[i + 1] == second) {
        syms[w++] = best_merged;
        i += 2;
      } else {
        syms[w++] = syms[i++];
      }
    }
    n = w;
  }
  out.insert(out.end(), syms, syms + n);
}

void ClipBpeTokenizer::Impl::BpeHeap(const unsigned char* b, size_t n, std::vector<int32_t>& out) const {
  // Doubly linked list of symbols (index = original byte position; a merged symbol keeps
  // the left position, so list order == index order) and a min-heap of candidate pairs
  // ordered by (rank, position). All candidates of the lowest rank are applied as one
  // batch, left to right, and the pairs they create are only pushed after the batch:
  // this is exactly "merge all occurrences of the best bigram, then re-rank" of the
  // reference, even for merge lists whose ranks are not consistent with their order.
  struct Cand {
    int32_t rank;
    int32_t pos;
    int32_t left;
    int32_t right;
    int32_t merged;
  };
  struct Later {
    bool operator()(const Cand& x, const Cand& y) const { return x.rank != y.rank ? x.rank > y.rank : x.pos > y.pos; }
  };
  std::vector<int32_t> sym(n), prev(n), next(n);
  for (size_t i = 0; i < n; ++i) {
    sym[i] = (i + 1 < n) ? byte_sym[b[i]] : byte_end_sym[b[i]];
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = (i + 1 < n) ? static_cast<int32_t>(i + 1) : -1;
  }
  std::vector<Cand> storage;
  storage.reserve(n);
  std::priority_queue<Cand, std::vector<Cand>, Later> heap(Later{}, std::move(storage));
  auto push_pair = [&](int32_t p) {
    if (p < 0) return;
    const int32_t q = next[p];
    if (q < 0) return;
    const MergeTable::Value* v = merges.Find(sym[p], sym[q]);
    if (v != nullptr) heap.push(Cand{v->rank, p, sym[p], sym[q], v->merged});
  };
  for (size_t i = 0; i + 1 < n; ++i) push_pair(static_cast<int32_t>(i));

  std::vector<Cand> batch;
  std::vector<int32_t> touched;
  while (!heap.empty()) {
    const int32_t rank = heap.top().rank;
    batch.clear();
    while (!heap.empty() && heap.top().rank == rank) {
      batch.push_back(heap.top());
      heap.pop();
    }
    touched.clear();
    for (const Cand& c : batch) {
      const int32_t p = c.pos;
      if (sym[p] != c.left) continue;  // stale (also covers dead nodes: sym = -1)
      const int32_t q = next[p];
      if (q < 0 || sym[q] != c.right) continue;
      sym[p] = c.merged;
      const int32_t r = next[q];
      next[p] = r;
      if (r >= 0) prev[r] = p;
      sym[q] = -1;
      touched.push_back(p);
    }
    for (int32_t p : touched) {
      push_pair(prev[p]);
      push_pair(p);
    }
  }
  for (int32_t p = 0; p >= 0; p = next[p]) out.push_back(sym[p]);
}

void ClipBpeTokenizer::Impl::EmitWord(std::string_view word, std::vector<int32_t>& out, FrontEntry* front_table) const {
  // The reference's cache is pre-seeded with the two special tokens.
  if (word == kStartOfText) {
    out.push_back(sot);
    return;
  }
  if (word == kEndOfText) {
    out.push_back(eot);
    return;
  }
  if (cache && word.size() <= max_cached_word_bytes) {
    const uint64_t h = HashBytes(word);
    FrontEntry* front = &front_table[(h >> 7) & (kFrontSlots - 1)];
    if (front->owner == owner && front->hash == h && front->word == word) {
      out.insert(out.end(), front->ids.begin(), front->ids.end());
      return;
    }
    const size_t before = out.size();
    if (!cache->Lookup(word, h, out)) {
      Bpe(word, out);
      cache->Insert(word, h, out.data() + before, out.size() - before);
    }
    front->owner = owner;
    front->hash = h;
    front->word.assign(word.data(), word.size());
    front->ids.assign(out.begin() + static_cast<std::ptrdiff_t>(before), out.end());
    return;
  }
  Bpe(word, out);
}

// ===================================================================================

ClipBpeTokenizer::ClipBpeTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClipBpeTokenizer::~ClipBpeTokenizer() = default;

std::unique_ptr<ClipBpeTokenizer> ClipBpeTokenizer::FromVocabAndMerges(const std::string& vocab_json_path,
                                                                       const std::string& merges_txt_path) {
  return FromVocabAndMerges(vocab_json_path, merges_txt_path, Options{});
}

std::unique_ptr<ClipBpeTokenizer> ClipBpeTokenizer::FromVocabAndMerges(const std::string& vocab_json_path,
                                                                       const std::string& merges_txt_path,
                                                                       const Options& options) {
  const std::string vocab = ReadFileOrThrow(vocab_json_path, "vocab");
  const std::string merges = ReadFileOrThrow(merges_txt_path, "merges");
  return Create(vocab, merges, vocab_json_path, merges_txt_path, options);
}

std::unique_ptr<ClipBpeTokenizer> ClipBpeTokenizer::FromVocabAndMergesData(std::string vocab_json, std::string merges) {
  return FromVocabAndMergesData(std::move(vocab_json), std::move(merges), Options{});
}

std::unique_ptr<ClipBpeTokenizer> ClipBpeTokenizer::FromVocabAndMergesData(std::string vocab_json, std::string merges,
                                                                           const Options& options) {
  return Create(vocab_json, merges, "<vocab.json data>", "<merges.txt data>", options);
}

std::unique_ptr<ClipBpeTokenizer> ClipBpeTokenizer::Create(const std::string& vocab_json, const std::string& merges_txt,
                                                           const std::string& vocab_label,
                                                           const std::string& merges_label, const Options& options) {
  auto impl = std::make_unique<Impl>();

  // --- vocab.json ---
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(vocab_json);
  } catch (const std::exception& e) {
    throw Error(codes::kModelLoad, "invalid vocab JSON in " + vocab_label + ": " + e.what());
  }
  if (!j.is_object() || j.empty()) {
    throw Error(codes::kModelLoad, "vocab JSON must be a non-empty object {token: id}: " + vocab_label);
  }
  int64_t max_id = -1;
  impl->vocab.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& v = it.value();
    if (!v.is_number_integer()) {
      throw Error(codes::kModelLoad, "vocab entry \"" + it.key() + "\" is not an integer id in " + vocab_label);
    }
    const int64_t id = v.get<int64_t>();
    if (id < 0 || id >= INT32_MAX) {
      throw Error(codes::kModelLoad, "vocab id out of range for \"" + it.key() + "\" in " + vocab_label);
    }
    impl->vocab.emplace(it.key(), static_cast<int32_t>(id));
    max_id = std::max(max_id, id);
  }
  if (static_cast<uint64_t>(max_id) > 16 * j.size() + 1024) {
    throw Error(codes::kModelLoad, "vocab ids are implausibly sparse in " + vocab_label);
  }
  const size_t id_space = static_cast<size_t>(max_id) + 1;
  impl->id_to_token.assign(id_space, std::string());
  impl->id_present.assign(id_space, 0);
  for (const auto& [tok, id] : impl->vocab) {
    if (impl->id_present[id]) {
      throw Error(codes::kModelLoad, "duplicate vocab id " + std::to_string(id) + " in " + vocab_label);
    }
    impl->id_present[id] = 1;
    impl->id_to_token[id] = tok;
  }

  // --- byte symbols, decode tables ---
  const std::array<char32_t, 256> b2u = BytesToUnicode();
  std::unordered_map<char32_t, uint8_t> u2b;
  for (int b = 0; b < 256; ++b) {
    std::string s;
    AppendUtf8(b2u[b], s);
    auto find = [&](const std::string& key) {
      auto it = impl->vocab.find(key);
      if (it == impl->vocab.end()) {
        throw Error(codes::kModelLoad, "vocab lacks byte symbol \"" + key + "\" (byte " + std::to_string(b) +
                                           "): not a CLIP byte-level BPE vocab: " + vocab_label);
      }
      return it->second;
    };
    impl->byte_sym[b] = find(s);
    impl->byte_end_sym[b] = find(s + kWordEnd);
    u2b[b2u[b]] = static_cast<uint8_t>(b);
  }
  impl->id_bytes.assign(id_space, std::string());
  impl->id_decodable.assign(id_space, 0);
  for (size_t id = 0; id < id_space; ++id) {
    if (!impl->id_present[id]) continue;
    const std::u32string cps = DecodeUtf8(impl->id_to_token[id]);
    std::string bytes;
    bool ok = true;
    for (char32_t c : cps) {
      auto it = u2b.find(c);
      if (it == u2b.end()) {
        ok = false;
        break;
      }
      bytes.push_back(static_cast<char>(it->second));
    }
    impl->id_decodable[id] = ok ? 1 : 0;
    if (ok) impl->id_bytes[id] = std::move(bytes);
  }

  auto special = [&](const char* name) {
    auto it = impl->vocab.find(name);
    if (it == impl->vocab.end()) {
      throw Error(codes::kModelLoad, std::string("vocab lacks special token ") + name + ": " + vocab_label);
    }
    return it->second;
  };
  impl->sot = special(kStartOfText);
  impl->eot = special(kEndOfText);

  // --- merges.txt ---
  struct Parsed {
    int32_t a, b, merged;
  };
  std::vector<Parsed> parsed;
  parsed.reserve(merges_txt.size() / 8);
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < merges_txt.size()) {
    size_t eol = merges_txt.find('\n', pos);
    if (eol == std::string::npos) eol = merges_txt.size();
    std::string_view line(merges_txt.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 1 && line.substr(0, 8) == "#version") continue;
    // Split on ASCII space/tab (byte-level symbols never contain whitespace).
    std::string_view parts[3];
    size_t count = 0, k = 0;
    while (k < line.size()) {
      while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
      if (k >= line.size()) break;
      size_t e = k;
      while (e < line.size() && line[e] != ' ' && line[e] != '\t') ++e;
      if (count < 3) parts[count] = line.substr(k, e - k);
      ++count;
      k = e;
    }
    if (count == 0) continue;  // blank line
    const std::string where = merges_label + " line " + std::to_string(line_no);
    if (count != 2) throw Error(codes::kModelLoad, "expected \"left right\" in " + where);
    auto lookup = [&](const std::string& s) {
      auto it = impl->vocab.find(s);
      if (it == impl->vocab.end()) {
        throw Error(codes::kModelLoad, "merge symbol \"" + s + "\" is not in the vocab (" + where + ")");
      }
      return it->second;
    };
    const std::string left(parts[0]), right(parts[1]);
    parsed.push_back(Parsed{lookup(left), lookup(right), lookup(left + right)});
  }
  if (parsed.empty()) throw Error(codes::kModelLoad, "no merges in " + merges_label);
  if (parsed.size() >= static_cast<size_t>(INT32_MAX))
    throw Error(codes::kModelLoad, "too many merges in " + merges_label);
  impl->merges.Reserve(parsed.size());
  for (size_t r = 0; r < parsed.size(); ++r) {
    impl->merges.Put(parsed[r].a, parsed[r].b, MergeTable::Value{static_cast<int32_t>(r), parsed[r].merged});
  }

  if (options.cache_capacity > 0) {
    impl->cache = std::make_unique<WordCache>(options.cache_capacity, std::max<size_t>(1, options.cache_shards));
    impl->max_cached_word_bytes = options.max_cached_word_bytes;
  }
  std::unique_ptr<ClipBpeTokenizer> tok(new ClipBpeTokenizer(std::move(impl)));
  tok->sot_id_ = tok->impl_->sot;
  tok->eot_id_ = tok->impl_->eot;
  tok->vocab_size_ = tok->impl_->vocab.size();
  tok->num_merges_ = parsed.size();
  return tok;
}

// ===================================================================================

void ClipBpeTokenizer::EncodeAppend(std::string_view text, std::vector<int32_t>& out) const {
  Scratch& s = ThreadScratch();
  if (s.front.empty()) s.front.resize(kFrontSlots);
  FrontEntry* front = s.front.data();
  if (NormalizeAsciiFast(text, s.ascii)) {
    // ASCII fast path: same cleanup and pattern, on bytes (code points == bytes == UTF-8).
    const std::string_view t = s.ascii;
    size_t pos = 0;
    while (pos < t.size()) {
      const size_t len = MatchAt(t, pos);
      if (len == 0) {
        ++pos;
        continue;
      }
      impl_->EmitWord(t.substr(pos, len), out, front);
      pos += len;
    }
    if (s.ascii.capacity() > (size_t{1} << 20)) std::string().swap(s.ascii);
    return;
  }
  s.input.clear();
  DecodeUtf8(text, s.input);
  NormalizeClipText(s.input, s.norm, s.tmp);
  const std::u32string_view t = s.norm;
  size_t pos = 0;
  while (pos < t.size()) {
    const size_t len = MatchAt(t, pos);
    if (len == 0) {
      ++pos;
      continue;
    }
    s.word.clear();
    EncodeUtf8(t.substr(pos, len), s.word);
    impl_->EmitWord(s.word, out, front);
    pos += len;
  }
  // Don't let one huge input pin memory in this thread's scratch buffers.
  constexpr size_t kKeep = size_t{1} << 20;
  if (s.input.capacity() > kKeep || s.norm.capacity() > kKeep || s.tmp.capacity() > kKeep) {
    std::u32string().swap(s.input);
    std::u32string().swap(s.norm);
    std::u32string().swap(s.tmp);
  }
}

std::vector<int32_t> ClipBpeTokenizer::Encode(std::string_view text) const {
  std::vector<int32_t> out;
  EncodeAppend(text, out);
  return out;
}

size_t ClipBpeTokenizer::EncodeForModel(std::string_view text, size_t context_length, int32_t* out_ids,
                                        int32_t pad_id) const {
  if (context_length < 2) {
    throw Error(codes::kInvalidArgument, "context_length must be >= 2 (got " + std::to_string(context_length) + ")");
  }
  if (out_ids == nullptr) throw Error(codes::kInvalidArgument, "out_ids is null");
  thread_local std::vector<int32_t> tokens;
  tokens.clear();
  EncodeAppend(text, tokens);
  const size_t n = std::min(tokens.size(), context_length - 2);
  out_ids[0] = sot_id_;
  std::copy(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(n), out_ids + 1);
  out_ids[n + 1] = eot_id_;
  std::fill(out_ids + n + 2, out_ids + context_length, pad_id);
  if (tokens.capacity() > (size_t{1} << 16)) std::vector<int32_t>().swap(tokens);  // don't pin huge buffers
  return n + 2;
}

std::vector<int32_t> ClipBpeTokenizer::EncodeForModel(std::string_view text, size_t context_length, int32_t pad_id,
                                                      size_t* true_length) const {
  if (context_length < 2) {
    throw Error(codes::kInvalidArgument, "context_length must be >= 2 (got " + std::to_string(context_length) + ")");
  }
  std::vector<int32_t> out(context_length);
  const size_t len = EncodeForModel(text, context_length, out.data(), pad_id);
  if (true_length != nullptr) *true_length = len;
  return out;
}

std::string ClipBpeTokenizer::Decode(const int32_t* ids, size_t n, bool skip_special_tokens) const {
  if (n > 0 && ids == nullptr) throw Error(codes::kInvalidArgument, "ids is null");
  std::string bytes;
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = ids[i];
    if (id < 0 || static_cast<size_t>(id) >= impl_->id_present.size() || !impl_->id_present[id]) {
      throw Error(codes::kInvalidArgument, "token id " + std::to_string(id) + " is not in the vocabulary");
    }
    if (skip_special_tokens && (id == sot_id_ || id == eot_id_)) continue;
    if (!impl_->id_decodable[id]) {
      throw Error(codes::kTokenizer, "token id " + std::to_string(id) + " (\"" + impl_->id_to_token[id] +
                                         "\") contains characters outside the byte-level alphabet");
    }
    bytes += impl_->id_bytes[id];
  }
  // .decode('utf-8', errors='replace')
  std::string text;
  if (IsValidUtf8(bytes)) {
    text = std::move(bytes);
  } else {
    EncodeUtf8(DecodeUtf8(bytes), text);
  }
  // .replace('</w>', ' ')
  std::string result;
  result.reserve(text.size());
  size_t p = 0;
  while (true) {
    const size_t f = text.find(kWordEnd, p);
    if (f == std::string::npos) {
      result.append(text, p, std::string::npos);
      break;
    }
    result.append(text, p, f - p);
    result.push_back(' ');
    p = f + 4;
  }
  return result;
}

std::string ClipBpeTokenizer::Decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  return Decode(ids.data(), ids.size(), skip_special_tokens);
}

int32_t ClipBpeTokenizer::TokenToId(std::string_view token) const {
  auto it = impl_->vocab.find(std::string(token));
  return it == impl_->vocab.end() ? -1 : it->second;
}

const std::string& ClipBpeTokenizer::IdToToken(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->id_present.size() || !impl_->id_present[id]) {
    throw Error(codes::kInvalidArgument, "token id " + std::to_string(id) + " is not in the vocabulary");
  }
  return impl_->id_to_token[id];
}

ClipBpeTokenizer::CacheStats ClipBpeTokenizer::cache_stats() const {
  if (!impl_->cache) return CacheStats{};
  return impl_->cache->Stats();
}

void ClipBpeTokenizer::ClearCache() const {
  if (impl_->cache) impl_->cache->Clear();
}

std::vector<int32_t> ClipBpeTokenizer::BpeWordForTesting(std::string_view word_bytes, bool use_heap) const {
  std::vector<int32_t> out;
  if (word_bytes.empty()) return out;
  const auto* b = reinterpret_cast<const unsigned char*>(word_bytes.data());
  if (use_heap) {
    impl_->BpeHeap(b, word_bytes.size(), out);
  } else {
    impl_->BpeSmall(b, word_bytes.size(), out);
  }
  return out;
}

}  // namespace crossmodal::text
