// Structural validation of FAISS index payloads; see faiss_payload.h for why.
//
// The layouts below are those of FAISS 1.7.3's faiss/impl/index_write.cpp and index_read.cpp (the
// FAISS crossmodal builds against, docs/building.md). Field widths follow the C++ types FAISS
// reads into: `int d`, `idx_t ntotal`, `bool` as one byte, enums as int, `size_t` counts. A field
// FAISS reads into a `bool` must be 0 or 1 (anything else is undefined behaviour when loaded).
#include "search/faiss_payload.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "common/error.h"

namespace crossmodal::search {
namespace {

constexpr int64_t kMaxDim = 65536;
constexpr int64_t kMaxVectors = int64_t{1} << 40;  // FAISS's own READVECTOR bound
constexpr uint64_t kMaxLists = uint64_t{1} << 20;  // IndexSpec's nlist bound
constexpr int kMaxDepth = 8;                       // components nested in one another
constexpr int kMaxTransforms = 16;                 // pre-transforms in one chain
constexpr uint64_t kMaxHnswLevels = 64;
constexpr int kMaxEf = 1 << 20;
constexpr uint64_t kFaissPrecomputeCap = uint64_t{1} << 31;  // faiss::precomputed_table_max_bytes

constexpr uint32_t Fourcc(const char (&s)[5]) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[0])) | static_cast<uint32_t>(static_cast<uint8_t>(s[1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[3])) << 24;
}

std::string FourccText(uint32_t h) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>((h >> (8 * i)) & 0xff);
    s += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return s;
}

struct Problem : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Bad(const std::string& why) { throw Problem(why); }

void Expect(bool ok, const std::string& why) {
  if (!ok) Bad(why);
}

// Bytes of payload, read in order; Skip passes over arrays without reading them.
class Source {
 public:
  explicit Source(uint64_t size) : remaining_(size) {}
  virtual ~Source() = default;
  uint64_t remaining() const { return remaining_; }
  void Read(void* out, uint64_t n) {
    Expect(n <= remaining_, "ends in the middle of a component");
    if (n == 0) return;  // `out` may be an empty vector's null data()
    DoRead(out, n);
    remaining_ -= n;
  }
  void Skip(uint64_t n) {
    Expect(n <= remaining_, "ends in the middle of a component");
    DoSkip(n);
    remaining_ -= n;
  }

 protected:
  virtual void DoRead(void* out, uint64_t n) = 0;
  virtual void DoSkip(uint64_t n) = 0;

 private:
  uint64_t remaining_;
};

class FileSource : public Source {
 public:
  FileSource(std::FILE* file, uint64_t size) : Source(size), file_(file) {}

 private:
  void DoRead(void* out, uint64_t n) override {
    if (n > 0 && std::fread(out, 1, static_cast<size_t>(n), file_) != n) Bad("ends in the middle of a component");
  }
  void DoSkip(uint64_t n) override {
    // Skips are bounded by the payload size, which the caller checked against the file size.
    if (n > 0 && ::fseeko(file_, static_cast<off_t>(n), SEEK_CUR) != 0) Bad("cannot be read past a component");
  }
  std::FILE* file_;
};

class MemorySource : public Source {
 public:
  MemorySource(const uint8_t* data, size_t size) : Source(size), at_(data) {}

 private:
  void DoRead(void* out, uint64_t n) override {
    std::memcpy(out, at_, static_cast<size_t>(n));
    at_ += n;
  }
  void DoSkip(uint64_t n) override { at_ += n; }
  const uint8_t* at_;
};

enum class Kind { kFlat, kPq, kSq, kIvf, kHnsw, kOther };

// What a parent needs to know about a component it contains.
struct Component {
  uint32_t fourcc = 0;
  Kind kind = Kind::kOther;
  int64_t d = 0;
  int64_t ntotal = 0;
  bool trained = false;
  int metric = 0;
  uint64_t pq_m = 0, pq_ksub = 0;  // for kPq storage
};

struct Transform {
  int64_t d_in = 0, d_out = 0;
  bool trained = false;
};

class Walker {
 public:
  Walker(Source& source, uint64_t payload_bytes) : in_(source), payload_bytes_(payload_bytes) {}

  FaissPayloadInfo Run() {
    Component top = Index(0);
    (void)top;
    Expect(in_.remaining() == 0, "has " + std::to_string(in_.remaining()) + " bytes after the index");
    return info_;
  }

 private:
  template <typename T>
  T Get() {
    T v{};
    in_.Read(&v, sizeof(T));
    return v;
  }
  uint32_t U32() { return Get<uint32_t>(); }
  int32_t I32() { return Get<int32_t>(); }
  uint64_t U64() { return Get<uint64_t>(); }
  int64_t I64() { return Get<int64_t>(); }
  float F32() { return Get<float>(); }
  bool Bool(const char* what) {
    const uint8_t b = Get<uint8_t>();
    Expect(b <= 1, std::string(what) + " is neither true nor false");
    return b == 1;
  }

  // A FAISS vector's element count, checked to fit in what remains of the payload.
  uint64_t Count(uint64_t element_bytes, const std::string& what) {
    const uint64_t n = U64();
    Expect(n <= in_.remaining() / element_bytes, what + " declares " + std::to_string(n) + " elements but only " +
                                                     std::to_string(in_.remaining()) + " bytes remain");
    return n;
  }
  void SkipVector(uint64_t element_bytes, const std::string& what) {
    in_.Skip(Count(element_bytes, what) * element_bytes);
  }
  template <typename T>
  std::vector<T> ReadVector(const std::string& what) {
    std::vector<T> v(Count(sizeof(T), what));
    in_.Read(v.data(), v.size() * sizeof(T));
    return v;
  }

  uint64_t DerivedBound() const { return std::max(kDerivedFloorBytes, kDerivedFactor * payload_bytes_); }

  Component Header(uint32_t h) {
    Component c;
    c.fourcc = h;
    info_.components.push_back(FourccText(h));
    const int32_t d = I32();
    Expect(d >= 1 && d <= kMaxDim, FourccText(h) + " dimension " + std::to_string(d) + " is not between 1 and 65536");
    c.d = d;
    c.ntotal = I64();
    Expect(c.ntotal >= 0 && c.ntotal <= kMaxVectors,
           FourccText(h) + " vector count " + std::to_string(c.ntotal) + " is out of range");
    I64();  // two unused fields FAISS still writes
    I64();
    c.trained = Bool("is_trained");
    c.metric = I32();
    // crossmodal builds inner-product and L2 indexes only (FAISS's metrics 0 and 1).
    Expect(c.metric == 0 || c.metric == 1,
           FourccText(h) + " uses metric " + std::to_string(c.metric) + ", not inner product or L2");
    return c;
  }

  // ProductQuantizer: size_t d, M, nbits, then the centroids (d × 2^nbits floats).
  void ProductQuantizer(int64_t d, Component& out, uint64_t* code_size) {
    const uint64_t pq_d = U64(), m = U64(), nbits = U64();
    Expect(pq_d == static_cast<uint64_t>(d),
           "PQ dimension " + std::to_string(pq_d) + " differs from its index's " + std::to_string(d));
    Expect(m >= 1 && m <= pq_d && pq_d % m == 0,
           "PQ sub-quantizer count " + std::to_string(m) + " does not divide dimension " + std::to_string(pq_d));
    Expect(nbits >= 1 && nbits <= 16, "PQ bits per code " + std::to_string(nbits) + " is not between 1 and 16");
    const uint64_t ksub = uint64_t{1} << nbits;
    const uint64_t centroids = Count(sizeof(float), "PQ centroids");
    Expect(centroids == pq_d * ksub,
           "PQ centroid table has " + std::to_string(centroids) + " values, expected " + std::to_string(pq_d * ksub));
    in_.Skip(centroids * sizeof(float));
    out.pq_m = m;
    out.pq_ksub = ksub;
    *code_size = (m * nbits + 7) / 8;
  }

  // ScalarQuantizer: qtype, rangestat, rangestat_arg, size_t d, size_t code_size, trained.
  uint64_t ScalarQuantizer(int64_t d, bool index_trained) {
    const int32_t qtype = I32();
    const int32_t rangestat = I32();
    F32();
    const uint64_t sq_d = U64();
    const uint64_t code_size = U64();
    Expect(qtype >= 0 && qtype <= 6, "scalar quantizer type " + std::to_string(qtype) + " is unknown");
    Expect(rangestat >= 0 && rangestat <= 3,
           "scalar quantizer range statistic " + std::to_string(rangestat) + " is unknown");
    Expect(sq_d == static_cast<uint64_t>(d),
           "SQ dimension " + std::to_string(sq_d) + " differs from its index's " + std::to_string(d));
    const uint64_t ud = sq_d;
    // ScalarQuantizer::set_derived_sizes, by QuantizerType.
    const uint64_t derived[] = {ud, (ud + 1) / 2, ud, (ud + 1) / 2, 2 * ud, ud, (ud * 6 + 7) / 8};
    // The trained range table: per dimension (min, width) for the non-uniform types, one shared
    // pair for the uniform ones, nothing for fp16 and 8-bit direct.
    const uint64_t table[] = {2 * ud, 2 * ud, 2, 2, 0, 0, 2 * ud};
    Expect(code_size == derived[qtype], "SQ code size " + std::to_string(code_size) + " does not match its type");
    const uint64_t trained = Count(sizeof(float), "SQ range table");
    Expect(trained == table[qtype] || (!index_trained && trained == 0),
           "SQ range table has " + std::to_string(trained) + " values, expected " + std::to_string(table[qtype]));
    in_.Skip(trained * sizeof(float));
    return code_size;
  }

  Transform VectorTransform() {
    const uint32_t h = U32();
    info_.components.push_back(FourccText(h));
    enum { kLinear, kRemap, kNorm, kCenter } family;
    bool have_bias = false;
    uint64_t a_size = 0, b_size = 0, mean_size = 0;
    std::vector<int32_t> map;
    if (h == Fourcc("rrot") || h == Fourcc("LTra") || h == Fourcc("Pcam") || h == Fourcc("PCAm") ||
        h == Fourcc("PcAm")) {
      family = kLinear;
      if (h != Fourcc("rrot") && h != Fourcc("LTra")) {
        F32();                           // eigen_power
        if (h == Fourcc("Pcam")) F32();  // epsilon
        Bool("PCA random_rotation");
        if (h != Fourcc("PCAm")) I32();         // balanced_bins
        SkipVector(sizeof(float), "PCA mean");  // used only in training
        SkipVector(sizeof(float), "PCA eigenvalues");
        SkipVector(sizeof(float), "PCA matrix");
      }
      have_bias = Bool("have_bias");
      a_size = Count(sizeof(float), "transform matrix");
      in_.Skip(a_size * sizeof(float));
      b_size = Count(sizeof(float), "transform bias");
      in_.Skip(b_size * sizeof(float));
    } else if (h == Fourcc("RmDT")) {
      family = kRemap;
      map = ReadVector<int32_t>("dimension map");
    } else if (h == Fourcc("VNrm")) {
      family = kNorm;
      F32();
    } else if (h == Fourcc("VCnt")) {
      family = kCenter;
      mean_size = Count(sizeof(float), "centering mean");
      in_.Skip(mean_size * sizeof(float));
    } else {
      Bad("contains vector transform '" + FourccText(h) + "', which crossmodal does not load");
    }
    Transform t;
    t.d_in = I32();
    t.d_out = I32();
    t.trained = Bool("transform is_trained");
    const std::string name = FourccText(h);
    Expect(t.d_in >= 1 && t.d_in <= kMaxDim && t.d_out >= 1 && t.d_out <= kMaxDim,
           name + " dimensions " + std::to_string(t.d_in) + " → " + std::to_string(t.d_out) + " are out of range");
    const uint64_t full = static_cast<uint64_t>(t.d_in) * static_cast<uint64_t>(t.d_out);
    switch (family) {
      case kLinear:
        Expect(a_size == full || (!t.trained && a_size == 0),
               name + " matrix has " + std::to_string(a_size) + " values, expected " + std::to_string(full));
        Expect(!have_bias || b_size == static_cast<uint64_t>(t.d_out) || (!t.trained && b_size == 0),
               name + " bias has " + std::to_string(b_size) + " values, expected " + std::to_string(t.d_out));
        break;
      case kRemap:
        Expect(map.size() == static_cast<size_t>(t.d_out),
               "dimension map has " + std::to_string(map.size()) + " entries, expected " + std::to_string(t.d_out));
        for (int32_t m : map) Expect(m >= -1 && m < t.d_in, "dimension map points outside the input");
        break;
      case kNorm:
        Expect(t.d_in == t.d_out, "normalisation changes the dimension");
        break;
      case kCenter:
        Expect(t.d_in == t.d_out, "centering changes the dimension");
        Expect(mean_size == static_cast<uint64_t>(t.d_in) || (!t.trained && mean_size == 0),
               "centering mean has " + std::to_string(mean_size) + " values, expected " + std::to_string(t.d_in));
        break;
    }
    return t;
  }

  struct Ivf {
    Component c;
    uint64_t nlist = 0;
    std::vector<int64_t> direct_map;  // lo-encoded (list << 32 | offset) positions
  };

  Ivf IvfHeader(uint32_t h, int depth) {
    Ivf ivf;
    ivf.c = Header(h);
    ivf.c.kind = Kind::kIvf;
    ivf.nlist = U64();
    const uint64_t nprobe = U64();
    Expect(ivf.nlist >= 1 && ivf.nlist <= kMaxLists,
           "IVF list count " + std::to_string(ivf.nlist) + " is not between 1 and 2^20");
    Expect(nprobe >= 1 && nprobe <= kMaxLists, "IVF nprobe " + std::to_string(nprobe) + " is out of range");
    const Component q = Index(depth + 1);
    Expect(q.d == ivf.c.d,
           "IVF coarse quantizer has dimension " + std::to_string(q.d) + ", its index " + std::to_string(ivf.c.d));
    Expect(static_cast<uint64_t>(q.ntotal) == ivf.nlist || (!ivf.c.trained && q.ntotal == 0),
           "IVF coarse quantizer holds " + std::to_string(q.ntotal) + " centroids for " + std::to_string(ivf.nlist) +
               " lists");
    // DirectMap: type (char), array, and for a hashtable its (id, position) pairs.
    const uint8_t map_type = Get<uint8_t>();
    Expect(map_type == 0 || map_type == 2,
           "IVF direct map type " + std::to_string(map_type) + " is not one crossmodal writes");
    Expect(Count(sizeof(int64_t), "IVF direct map array") == 0, "IVF direct map array is not empty");
    if (map_type == 2) {
      const uint64_t pairs = Count(2 * sizeof(int64_t), "IVF direct map");
      Expect(pairs <= static_cast<uint64_t>(ivf.c.ntotal), "IVF direct map has more entries than the index vectors");
      ivf.direct_map.reserve(pairs);
      for (uint64_t i = 0; i < pairs; ++i) {
        I64();
        ivf.direct_map.push_back(I64());
      }
    }
    return ivf;
  }

  // ArrayInvertedLists ("ilar"): nlist, code_size, the list sizes (full or sparse), then each
  // non-empty list's codes and ids back to back.
  void InvertedLists(const Ivf& ivf, uint64_t code_size) {
    const uint32_t h = U32();
    Expect(h == Fourcc("ilar"), "inverted lists of kind '" + FourccText(h) + "' are not ones crossmodal loads");
    const uint64_t nlist = U64(), stored_code_size = U64();
    Expect(nlist == ivf.nlist,
           "inverted lists count " + std::to_string(nlist) + " differs from the IVF's " + std::to_string(ivf.nlist));
    Expect(stored_code_size == code_size, "inverted lists code size " + std::to_string(stored_code_size) +
                                              " differs from the index's " + std::to_string(code_size));
    std::vector<uint64_t> sizes(nlist, 0);
    const uint32_t list_type = U32();
    if (list_type == Fourcc("full")) {
      const std::vector<uint64_t> full = ReadVector<uint64_t>("inverted list sizes");
      Expect(full.size() == nlist,
             "inverted list sizes cover " + std::to_string(full.size()) + " lists of " + std::to_string(nlist));
      sizes = full;
    } else if (list_type == Fourcc("sprs")) {
      const std::vector<uint64_t> pairs = ReadVector<uint64_t>("inverted list sizes");
      Expect(pairs.size() % 2 == 0, "sparse inverted list sizes are not pairs");
      for (size_t j = 0; j < pairs.size(); j += 2) {
        Expect(pairs[j] < nlist, "sparse inverted list number " + std::to_string(pairs[j]) + " is out of range");
        sizes[pairs[j]] = pairs[j + 1];
      }
    } else {
      Bad("inverted list size layout '" + FourccText(list_type) + "' is unknown");
    }
    const uint64_t entry_bytes = code_size + sizeof(int64_t);
    uint64_t total = 0, bytes = 0;
    for (uint64_t s : sizes) {
      Expect(s <= static_cast<uint64_t>(kMaxVectors) && total + s <= static_cast<uint64_t>(kMaxVectors),
             "inverted lists declare more than 2^40 vectors");
      total += s;
      Expect(s <= (in_.remaining() - bytes) / entry_bytes,
             "inverted lists declare more vectors than the remaining bytes hold");
      bytes += s * entry_bytes;
    }
    Expect(total == static_cast<uint64_t>(ivf.c.ntotal),
           "inverted lists hold " + std::to_string(total) + " vectors, the index says " + std::to_string(ivf.c.ntotal));
    for (int64_t position : ivf.direct_map) {
      const uint64_t list = static_cast<uint64_t>(position) >> 32;
      const uint64_t offset = static_cast<uint64_t>(position) & 0xffffffffu;
      Expect(position >= 0 && list < nlist && offset < sizes[list], "IVF direct map points outside the lists");
    }
    in_.Skip(bytes);
  }

  void Hnsw(const Component& c) {
    const uint64_t probas = Count(sizeof(double), "HNSW level probabilities");
    Expect(probas <= kMaxHnswLevels, "HNSW has " + std::to_string(probas) + " levels");
    in_.Skip(probas * sizeof(double));
    const std::vector<int32_t> cum = ReadVector<int32_t>("HNSW neighbours per level");
    Expect(cum.size() == probas + 1, "HNSW neighbours-per-level table does not match its levels");
    for (size_t i = 0; i < cum.size(); ++i) {
      Expect(cum[i] >= 0 && cum[i] <= (1 << 16) && (i == 0 || cum[i] >= cum[i - 1]),
             "HNSW neighbours-per-level table is not a running sum");
    }
    const uint64_t levels = Count(sizeof(int32_t), "HNSW levels");
    Expect(levels == static_cast<uint64_t>(c.ntotal),
           "HNSW levels cover " + std::to_string(levels) + " of " + std::to_string(c.ntotal) + " vectors");
    in_.Skip(levels * sizeof(int32_t));
    const uint64_t offsets = Count(sizeof(uint64_t), "HNSW offsets");
    Expect(offsets == levels + 1, "HNSW offsets do not match its levels");
    in_.Skip(offsets * sizeof(uint64_t));
    SkipVector(sizeof(int32_t), "HNSW neighbours");  // graph contents: CheckGraphs after loading
    I32();                                           // entry_point and max_level: CheckGraphs
    I32();
    const int32_t ef_construction = I32(), ef_search = I32(), upper_beam = I32();
    Expect(ef_construction >= 1 && ef_construction <= kMaxEf && ef_search >= 1 && ef_search <= kMaxEf &&
               upper_beam >= 1 && upper_beam <= kMaxEf,
           "HNSW search parameters are out of range");
  }

  Component Index(int depth) {
    Expect(depth <= kMaxDepth, "nests components deeper than " + std::to_string(kMaxDepth));
    const uint32_t h = U32();
    const std::string name = FourccText(h);
    if (h == Fourcc("IxFI") || h == Fourcc("IxF2") || h == Fourcc("IxFl")) {
      Component c = Header(h);
      c.kind = Kind::kFlat;
      const uint64_t floats = Count(sizeof(float), "flat vectors");
      Expect(floats == static_cast<uint64_t>(c.ntotal) * static_cast<uint64_t>(c.d),
             "flat index holds " + std::to_string(floats) + " values for " + std::to_string(c.ntotal) + " vectors");
      in_.Skip(floats * sizeof(float));
      return c;
    }
    if (h == Fourcc("IxPq")) {
      Component c = Header(h);
      c.kind = Kind::kPq;
      uint64_t code_size = 0;
      ProductQuantizer(c.d, c, &code_size);
      const uint64_t codes = Count(1, "PQ codes");
      Expect(codes == static_cast<uint64_t>(c.ntotal) * code_size,
             "PQ index holds " + std::to_string(codes) + " code bytes for " + std::to_string(c.ntotal) + " vectors");
      in_.Skip(codes);
      const int32_t search_type = I32();
      Expect(search_type == 0, "PQ search mode " + std::to_string(search_type) + " is not plain PQ");
      Bool("PQ encode_signs");
      I32();  // polysemous_ht
      return c;
    }
    if (h == Fourcc("IxSQ")) {
      Component c = Header(h);
      c.kind = Kind::kSq;
      const uint64_t code_size = ScalarQuantizer(c.d, c.trained);
      const uint64_t codes = Count(1, "SQ codes");
      Expect(codes == static_cast<uint64_t>(c.ntotal) * code_size,
             "SQ index holds " + std::to_string(codes) + " code bytes for " + std::to_string(c.ntotal) + " vectors");
      in_.Skip(codes);
      return c;
    }
    if (h == Fourcc("IwFl")) {
      Ivf ivf = IvfHeader(h, depth);
      InvertedLists(ivf, static_cast<uint64_t>(ivf.c.d) * sizeof(float));
      return ivf.c;
    }
    if (h == Fourcc("IwPQ")) {
      Ivf ivf = IvfHeader(h, depth);
      const bool by_residual = Bool("IVF-PQ by_residual");
      const uint64_t code_size = U64();
      Component pq;
      uint64_t pq_code_size = 0;
      ProductQuantizer(ivf.c.d, pq, &pq_code_size);
      Expect(code_size == pq_code_size, "IVF-PQ code size " + std::to_string(code_size) + " differs from its PQ's " +
                                            std::to_string(pq_code_size));
      InvertedLists(ivf, code_size);
      if (ivf.c.trained && by_residual) {
        // IndexIVFPQ::precompute_table on load: nlist × M × ksub floats, which FAISS itself skips
        // beyond its precomputed_table_max_bytes.
        const uint64_t table = ivf.nlist * pq.pq_m * pq.pq_ksub * sizeof(float);
        if (table <= kFaissPrecomputeCap) info_.precomputed_table_bytes += table;
      }
      return ivf.c;
    }
    if (h == Fourcc("IwSq")) {
      Ivf ivf = IvfHeader(h, depth);
      const uint64_t sq_code_size = ScalarQuantizer(ivf.c.d, ivf.c.trained);
      const uint64_t code_size = U64();
      Expect(code_size == sq_code_size, "IVF-SQ code size " + std::to_string(code_size) + " differs from its SQ's " +
                                            std::to_string(sq_code_size));
      Bool("IVF-SQ by_residual");
      InvertedLists(ivf, code_size);
      return ivf.c;
    }
    if (h == Fourcc("IxPT")) {
      Component c = Header(h);
      const int32_t count = I32();
      Expect(count >= 1 && count <= kMaxTransforms, "pre-transform chain of " + std::to_string(count) + " transforms");
      int64_t d = c.d;
      for (int32_t i = 0; i < count; ++i) {
        const Transform t = VectorTransform();
        Expect(t.d_in == d, "pre-transform " + std::to_string(i) + " takes dimension " + std::to_string(t.d_in) +
                                " but receives " + std::to_string(d));
        Expect(t.trained || !c.trained, "a trained pre-transform index holds an untrained transform");
        d = t.d_out;
      }
      const Component inner = Index(depth + 1);
      Expect(inner.d == d, "pre-transform output dimension " + std::to_string(d) + " differs from its index's " +
                               std::to_string(inner.d));
      Expect(inner.ntotal == c.ntotal, "pre-transform and its index disagree on the vector count");
      return c;
    }
    if (h == Fourcc("IxRF")) {
      Component c = Header(h);
      const Component base = Index(depth + 1);
      const Component refine = Index(depth + 1);
      const float k_factor = F32();
      Expect(base.d == c.d && refine.d == c.d, "refine index parts differ in dimension");
      Expect(base.ntotal == c.ntotal && refine.ntotal == c.ntotal, "refine index parts differ in vector count");
      Expect(std::isfinite(k_factor) && k_factor >= 1.0f && k_factor <= 1024.0f,
             "refine k_factor is not between 1 and 1024");
      return c;
    }
    if (h == Fourcc("IxMp") || h == Fourcc("IxM2")) {
      Component c = Header(h);
      const Component inner = Index(depth + 1);
      const uint64_t ids = Count(sizeof(int64_t), "ID map");
      Expect(inner.d == c.d && inner.ntotal == c.ntotal && ids == static_cast<uint64_t>(c.ntotal),
             "ID map does not match its index");
      in_.Skip(ids * sizeof(int64_t));
      return c;
    }
    if (h == Fourcc("IHNf") || h == Fourcc("IHNp") || h == Fourcc("IHNs")) {
      Component c = Header(h);
      c.kind = Kind::kHnsw;
      Hnsw(c);
      const Component storage = Index(depth + 1);
      const Kind expected = h == Fourcc("IHNf") ? Kind::kFlat : h == Fourcc("IHNp") ? Kind::kPq : Kind::kSq;
      // FAISS casts the storage to the type the fourcc names without checking.
      Expect(storage.kind == expected, name + " storage is a '" + FourccText(storage.fourcc) + "' index");
      Expect(storage.d == c.d && storage.ntotal == c.ntotal, "HNSW storage does not match its graph");
      if (h == Fourcc("IHNp")) {
        // ProductQuantizer::compute_sdc_table on load: M × ksub² floats.
        const uint64_t sdc = storage.pq_m * storage.pq_ksub * storage.pq_ksub * sizeof(float);
        Expect(sdc <= DerivedBound(),
               "HNSW-PQ distance table of " + std::to_string(sdc >> 20) + " MiB is out of proportion to the file");
      }
      return c;
    }
    Bad("contains FAISS component '" + name + "', which crossmodal does not load");
  }

  Source& in_;
  const uint64_t payload_bytes_;
  FaissPayloadInfo info_;
};

}  // namespace

FaissPayloadInfo CheckFaissPayload(std::FILE* file, uint64_t size, const std::string& path) {
  FileSource source(file, size);
  try {
    return Walker(source, size).Run();
  } catch (const Problem& e) {
    throw Error(codes::kIndexCorrupt,
                "index file " + path + " is corrupt or not a crossmodal index: FAISS data: " + e.what());
  }
}

std::string FaissPayloadProblem(const uint8_t* data, size_t size) {
  MemorySource source(data, size);
  try {
    Walker(source, size).Run();
    return "";
  } catch (const Problem& e) {
    return e.what();
  }
}

}  // namespace crossmodal::search
