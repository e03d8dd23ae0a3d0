#include "search/index_spec.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "common/file_util.h"

namespace crossmodal::search {

Metric ParseMetric(const std::string& name) {
  if (name == "cosine" || name.empty()) return Metric::kCosine;
  if (name == "ip") return Metric::kInnerProduct;
  if (name == "l2") return Metric::kL2;
  throw Error(codes::kInvalidArgument, "metric must be 'cosine', 'ip' or 'l2', got '" + name + "'");
}

const char* MetricName(Metric metric) {
  switch (metric) {
    case Metric::kCosine:
      return "cosine";
    case Metric::kInnerProduct:
      return "ip";
    case Metric::kL2:
      return "l2";
  }
  return "unknown";
}

IndexType ParseIndexType(const std::string& name) {
  if (name == "flat" || name.empty()) return IndexType::kFlat;
  if (name == "hnsw") return IndexType::kHnsw;
  if (name == "ivf-flat") return IndexType::kIvfFlat;
  if (name == "ivf-pq") return IndexType::kIvfPq;
  if (name == "factory") return IndexType::kFactory;
  throw Error(codes::kInvalidArgument,
              "type must be 'flat', 'hnsw', 'ivf-flat', 'ivf-pq' or 'factory', got '" + name + "'");
}

const char* IndexTypeName(IndexType type) {
  switch (type) {
    case IndexType::kFlat:
      return "flat";
    case IndexType::kHnsw:
      return "hnsw";
    case IndexType::kIvfFlat:
      return "ivf-flat";
    case IndexType::kIvfPq:
      return "ivf-pq";
    case IndexType::kFactory:
      return "factory";
  }
  return "unknown";
}

SearchDevice ParseSearchDevice(const std::string& name) {
  if (name == "cpu" || name.empty()) return SearchDevice::kCpu;
  if (name == "gpu") return SearchDevice::kGpu;
  if (name == "auto") return SearchDevice::kAuto;
  throw Error(codes::kInvalidArgument, "device must be 'cpu', 'gpu' or 'auto', got '" + name + "'");
}

const char* SearchDeviceName(SearchDevice device) {
  switch (device) {
    case SearchDevice::kCpu:
      return "cpu";
    case SearchDevice::kGpu:
      return "gpu";
    case SearchDevice::kAuto:
      return "auto";
  }
  return "unknown";
}

std::string IndexSpec::ToJson() const {
  nlohmann::json j = {
      {"type", IndexTypeName(type)},
      {"dim", dim},
      {"metric", MetricName(metric)},
      {"M", hnsw_m},
      {"efConstruction", ef_construction},
      {"efSearch", ef_search},
      {"nlist", nlist},
      {"nlistAuto", nlist_auto},
      {"nprobe", nprobe},
      {"trainPerList", train_per_list},
      {"pqM", pq_m},
      {"pqBits", pq_bits},
      {"refineFactor", refine_factor},
      {"factory", factory},
  };
  return j.dump();
}

namespace {

int IntField(const nlohmann::json& j, const char* key, int fallback, int min, int max) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  const auto& v = j[key];
  if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) {
    throw Error(codes::kInvalidArgument, std::string(key) + " must be an integer");
  }
  const double d = v.get<double>();
  if (d < min || d > max) {
    throw Error(codes::kInvalidArgument,
                std::string(key) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return static_cast<int>(d);
}

}  // namespace

static IndexSpec FromJsonUnchecked(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw Error(codes::kInvalidArgument, std::string("index options are not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw Error(codes::kInvalidArgument, "index options must be an object");
  IndexSpec spec;
  spec.type = ParseIndexType(j.value("type", std::string("flat")));
  spec.metric = ParseMetric(j.value("metric", std::string("cosine")));
  spec.dim = static_cast<size_t>(IntField(j, "dim", 0, 1, 65536));
  spec.hnsw_m = IntField(j, "M", spec.hnsw_m, 4, 256);
  spec.ef_construction = IntField(j, "efConstruction", spec.ef_construction, 8, 4096);
  spec.ef_search = IntField(j, "efSearch", spec.ef_search, 1, 65536);
  spec.nlist = IntField(j, "nlist", spec.nlist, 0, 1 << 20);
  spec.nlist_auto = spec.nlist == 0 || j.value("nlistAuto", false);
  spec.nprobe = IntField(j, "nprobe", spec.nprobe, 0, 1 << 20);
  spec.train_per_list = IntField(j, "trainPerList", spec.train_per_list, 39, 1 << 16);
  spec.pq_m = IntField(j, "pqM", spec.pq_m, 0, 65536);
  spec.pq_bits = IntField(j, "pqBits", spec.pq_bits, 1, 16);
  spec.refine_factor = IntField(j, "refineFactor", spec.refine_factor, 0, 1024);
  if (j.contains("factory") && j["factory"].is_string()) spec.factory = j["factory"].get<std::string>();
  if (j.contains("device") && !j["device"].is_null()) {
    if (!j["device"].is_string()) throw Error(codes::kInvalidArgument, "device must be 'cpu', 'gpu' or 'auto'");
    spec.device = ParseSearchDevice(j["device"].get<std::string>());
  }
  spec.device_id = IntField(j, "deviceId", spec.device_id, 0, 1023);
  spec.Validate();
  return spec;
}

IndexSpec IndexSpec::FromJson(const std::string& text) {
  return RethrowJsonErrors(codes::kInvalidArgument, "index options", [&] { return FromJsonUnchecked(text); });
}

namespace {

[[noreturn]] void BadFactory(const std::string& factory, const std::string& why) {
  throw Error(codes::kInvalidArgument, "factory '" + factory + "': " + why);
}

// The integer starting at `pos` (digits only), bounded so no FAISS stoi sees an out-of-range
// value. Advances `pos` past it; -1 when there is no digit there.
long long ReadNumber(const std::string& s, size_t& pos) {
  if (pos >= s.size() || !std::isdigit(static_cast<unsigned char>(s[pos]))) return -1;
  long long v = 0;
  for (; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos) {
    v = v * 10 + (s[pos] - '0');
    if (v > (1LL << 30)) return 1LL << 31;  // larger than any bound below; stops the overflow
  }
  return v;
}

void CheckRange(const std::string& factory, const std::string& what, long long v, long long min, long long max) {
  if (v < min || v > max) {
    BadFactory(factory, what + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                            (v >= (1LL << 31) ? " (got a larger number)" : " (got " + std::to_string(v) + ")"));
  }
}

}  // namespace

// FAISS's index_factory parses its string with regexes and std::stoi and builds whatever it
// describes without checking the parameters the named types (hnsw, ivf-*) are held to: "HNSW1"
// loops forever (its level probabilities use 1/log(M)), "HNSW0" divides by zero, "HNSW100000" or
// "IVF99999999" allocate without bound, and a number beyond int makes stoi throw out_of_range
// (which used to surface as ERR_INTERNAL). So every parameter FAISS would read is checked here,
// before index_factory runs, against the same bounds as the named types; what FAISS then still
// refuses (an unknown component, PQ sub-quantizers that do not divide dim) is ERR_INVALID_ARGUMENT
// too (ann_index.cc).
void ValidateFactoryString(const std::string& factory, size_t dim) {
  if (factory.empty()) BadFactory(factory, "empty");
  if (factory.size() > 256) BadFactory(factory.substr(0, 32) + "...", "longer than 256 characters");
  for (char c : factory) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != ',' && c != '_' && c != '(' && c != ')') {
      BadFactory(factory, std::string("unexpected character '") + (c == '\0' ? std::string("\\0") : std::string(1, c)) +
                              "' (components are letters, digits, '_', '(' and ')', separated by ',')");
    }
  }
  const long long max_dim = 65536;
  const long long max_lists = 1 << 20;  // nlist's bound for ivf-flat / ivf-pq
  // The parameter that a number following each prefix stands for, and its bounds. Longest prefix
  // first, so "PCAWR" is not read as "PCA" followed by "WR".
  struct Rule {
    const char* prefix;
    const char* what;
    long long min, max;
  };
  static const Rule kRules[] = {
      {"HNSW", "HNSW M (neighbours per node)", 4, 256},
      {"NSG", "NSG R (graph degree)", 4, 256},
      {"IVF", "IVF nlist", 1, max_lists},
      {"IMI2x", "IMI bits per half", 1, 10},
      {"OPQ", "OPQ sub-quantizers", 1, max_dim},
      {"PCAWR", "PCA output dimension", 1, max_dim},
      {"PCAW", "PCA output dimension", 1, max_dim},
      {"PCAR", "PCA output dimension", 1, max_dim},
      {"PCA", "PCA output dimension", 1, max_dim},
      {"ITQ", "ITQ output dimension", 1, max_dim},
      {"RR", "random rotation output dimension", 1, max_dim},
      {"PQ", "PQ sub-quantizers", 1, max_dim},
      {"RQ", "RQ codebooks", 1, 64},
      {"LSQ", "LSQ codebooks", 1, 64},
      {"SQ", "SQ bits", 4, 8},
      {"LSH", "LSH bits", 1, max_dim},
      {"Pad", "padding dimension", 1, max_dim},
  };
  size_t pos = 0;
  while (pos < factory.size()) {
    if (!std::isdigit(static_cast<unsigned char>(factory[pos]))) {
      const Rule* rule = nullptr;
      for (const Rule& r : kRules) {
        const size_t n = std::strlen(r.prefix);
        if (factory.compare(pos, n, r.prefix) == 0) {
          rule = &r;
          break;
        }
      }
      if (rule == nullptr) {
        ++pos;
        continue;
      }
      pos += std::strlen(rule->prefix);
      const long long v = ReadNumber(factory, pos);
      if (v >= 0) CheckRange(factory, rule->what, v, rule->min, rule->max);
      if (std::strcmp(rule->prefix, "PQ") == 0 || std::strcmp(rule->prefix, "RQ") == 0 ||
          std::strcmp(rule->prefix, "LSQ") == 0) {
        // "PQ16x8": bits per code after the 'x'.
        if (pos < factory.size() && factory[pos] == 'x') {
          ++pos;
          const long long bits = ReadNumber(factory, pos);
          if (bits >= 0) CheckRange(factory, std::string(rule->prefix) + " bits per code", bits, 1, 16);
        }
      }
      continue;
    }
    // Any other number (e.g. OPQ's "_64" output dimension, "RFlat" k factors): bounded so stoi
    // cannot overflow and nothing is sized by it beyond what the named types allow.
    const long long v = ReadNumber(factory, pos);
    CheckRange(factory, "a number", v, 0, std::max(max_dim, max_lists));
  }
  (void)dim;
}

void IndexSpec::Validate() const {
  if (dim == 0 || dim > 65536) throw Error(codes::kInvalidArgument, "dim must be between 1 and 65536");
  if (type == IndexType::kFactory && factory.empty()) {
    throw Error(codes::kInvalidArgument, "type 'factory' needs a FAISS index_factory string in `factory`");
  }
  if (type == IndexType::kFactory) ValidateFactoryString(factory, dim);
  if (type == IndexType::kIvfPq) {
    const int m = EffectivePqM(*this);
    if (dim % static_cast<size_t>(m) != 0) {
      throw Error(codes::kInvalidArgument,
                  "pqM (" + std::to_string(m) + ") must divide dim (" + std::to_string(dim) + ")");
    }
    if (pq_bits > 12) throw Error(codes::kInvalidArgument, "pqBits must be at most 12");
  }
}

int AutoNlist(size_t n) {
  const double target = std::min(4.0 * std::sqrt(static_cast<double>(n)), static_cast<double>(n) / 39.0);
  int nlist = 1;
  while (nlist * 2 <= target && nlist < 65536) nlist *= 2;
  return nlist;
}

int EffectivePqM(const IndexSpec& spec) {
  if (spec.pq_m > 0) return spec.pq_m;
  int m = static_cast<int>(std::max<size_t>(1, spec.dim / 4));
  while (m > 1 && spec.dim % static_cast<size_t>(m) != 0) --m;
  return m;
}

std::string RecommendIndex(size_t n, size_t dim) {
  nlohmann::json out;
  const double flat_bytes = static_cast<double>(n) * static_cast<double>(dim) * 4.0;
  if (n < 100000) {
    out["type"] = "flat";
    out["params"] = nlohmann::json::object();
    out["reason"] =
        "Below ~100k vectors an exact scan is fast (a BLAS matrix product, a few ms per query) and has "
        "perfect recall, supports removal and every filter, and needs no training or tuning.";
  } else if (n < 5000000 && flat_bytes < 8.0 * 1024 * 1024 * 1024) {
    out["type"] = "hnsw";
    out["params"] = {{"M", 32}, {"efConstruction", 200}, {"efSearch", 512}};
    out["reason"] =
        "From ~100k vectors an exact scan costs milliseconds per query; HNSW answers in well under a "
        "millisecond at recall@10 ≥ 0.95 while the vectors (plus ~M·8 bytes each of graph) still fit "
        "in memory. Building costs minutes per million vectors; removals are tombstones until compact().";
  } else {
    const int nlist = AutoNlist(n);
    IndexSpec compact;
    compact.dim = dim;
    compact.pq_m = static_cast<int>(std::max<size_t>(1, dim / 8));
    while (compact.pq_m > 1 && dim % static_cast<size_t>(compact.pq_m) != 0) --compact.pq_m;
    out["type"] = "ivf-pq";
    out["params"] = {{"nlist", nlist}, {"nprobe", std::max(1, nlist / 16)}, {"pqM", compact.pq_m}, {"refineFactor", 0}};
    out["reason"] =
        "Beyond a few million vectors (or when the raw vectors do not fit in RAM) IVF-PQ stores dim/8 "
        "bytes per vector, trains in minutes, and can be memory-mapped; nprobe trades speed for recall "
        "(raise it, or enable refineFactor if the raw vectors fit, when recall matters more).";
  }
  out["n"] = n;
  out["dim"] = dim;
  return out.dump();
}

}  // namespace crossmodal::search
