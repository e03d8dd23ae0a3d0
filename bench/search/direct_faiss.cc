// The benchmark's baseline without Node: the same index operations crossmodal's addon performs
// (search::AnnIndex, linked from native/search/), plus stock FAISS indexes (IndexFlatIP,
// IndexHNSWFlat, IndexIVFFlat) called directly. Comparing the addon with the first shows the
// binding's overhead; the second shows what stock Debian FAISS does on its own.
//
// Usage: direct_faiss <vectors.f32> <queries.f32> <gt.i64> <dim> <type> <k> <batch> [mode]
//   type: flat | hnsw | ivf-flat     mode: ann (default: AnnIndex) | stock (plain FAISS)
// EF_SEARCH: comma-separated efSearch values for hnsw (the index is built once).
// HANDOFF=1: in ann mode, run each search on a persistent worker thread while the caller waits.
// LOAD_INDEX: in ann mode, load this saved index (VectorIndex.save) instead of building one, so
// the addon and this program can search the very same graph (vectors and gt may then be empty
// files; recall prints as -1 without ground truth).
// Prints one JSON line per efSearch value (one for other types): ef, build_ms, qps1, qps64, recall, rss_mb.
//
// Usage: direct_faiss --bandwidth
//   The machine's memory read bandwidth: every hardware thread streams its share of a 1 GiB buffer
//   (AVX2 loads where the CPU has them, the access pattern of a flat scan), best of 5 passes. Prints {"read_gbps",
//   "threads"}. A flat search at batch 1 reads all n × dim floats per query, so bandwidth ÷ (n · dim · 4 bytes) bounds
//   its QPS from above.
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <sys/mman.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "search/ann_index.h"

using Clock = std::chrono::steady_clock;

static std::vector<char> ReadAll(const char* path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(f), {});
}

static double RssMb() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, rss = 0;
  f >> pages >> rss;
  return rss * 4096.0 / 1048576.0;
}

// HANDOFF=1: every search runs on one persistent worker thread while the caller waits, the shape
// of the addon's call (minus Node), to separate the cost of a thread hand-off from the binding's.
class Worker {
 public:
  Worker() : thread_([this] { Loop(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Run(std::function<void()> f) {
    std::unique_lock<std::mutex> l(m_);
    job_ = std::move(f);
    done_ = false;
    cv_.notify_all();
    cv_.wait(l, [&] { return done_; });
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(m_);
    for (;;) {
      cv_.wait(l, [&] { return stop_ || job_; });
      if (stop_) return;
      auto f = std::move(job_);
      job_ = nullptr;
      l.unlock();
      f();
      l.lock();
      done_ = true;
      cv_.notify_all();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::function<void()> job_;
  bool done_ = true, stop_ = false;
  std::thread thread_;
};

// Four independent accumulators so the adds never wait on each other: the loads set the pace.
static float SumPortable(const float* p, size_t n) {
  float a[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int l = 0; l < 4; ++l) a[l] += p[i + l];
  }
  for (; i < n; ++i) a[0] += p[i];
  return a[0] + a[1] + a[2] + a[3];
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static float SumAvx2(const float* p, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  float sum = 0;
  for (float v : lanes) sum += v;
  for (; i < n; ++i) sum += p[i];
  return sum;
}
#endif

// AVX2 where the CPU has it (what crossmodal's flat kernels use, search/fast_flat.cc), else portable.
static float SumStream(const float* p, size_t n) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) return SumAvx2(p, n);
#endif
  return SumPortable(p, n);
}

static int MeasureBandwidth() {
  const size_t floats = size_t{1} << 28;  // 1 GiB: far beyond any cache
  // 2 MiB-aligned and advised for transparent huge pages, as crossmodal's own indexes are
  // (search/huge_pages.cc), so TLB misses do not lower the floor.
  float* data = static_cast<float*>(std::aligned_alloc(size_t{2} << 20, floats * sizeof(float)));
  if (data == nullptr) return 1;
  ::madvise(data, floats * sizeof(float), MADV_HUGEPAGE);
  std::unique_ptr<float, decltype(&std::free)> owner(data, &std::free);
  std::fill(data, data + floats, 1.0f);
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  double best = 1e30;
  float sink = 0;
  for (int pass = 0; pass < 5; ++pass) {
    std::vector<float> sums(threads, 0);
    const auto t0 = Clock::now();
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        const size_t begin = floats * t / threads, end = floats * (t + 1) / threads;
        sums[t] = SumStream(data + begin, end - begin);
      });
    }
    for (auto& w : workers) w.join();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    for (float v : sums) sink += v;
  }
  std::printf("{\"read_gbps\":%.2f,\"threads\":%u,\"checksum\":%.0f}\n", floats * 4.0 / best / 1e9, threads, sink);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--bandwidth") return MeasureBandwidth();
  if (argc < 8) {
    std::fprintf(stderr, "usage: direct_faiss vectors queries gt dim type k batch [ann|stock]\n");
    return 2;
  }
  auto xb = ReadAll(argv[1]);
  auto xq = ReadAll(argv[2]);
  auto gtb = ReadAll(argv[3]);
  const size_t d = std::stoul(argv[4]);
  const std::string type = argv[5];
  const size_t k = std::stoul(argv[6]);
  const size_t batch = std::stoul(argv[7]);
  const std::string mode = argc > 8 ? argv[8] : "ann";
  const size_t n = xb.size() / 4 / d, nq = xq.size() / 4 / d;
  const float* base = reinterpret_cast<const float*>(xb.data());
  const float* queries = reinterpret_cast<const float*>(xq.data());
  const int64_t* gt = reinterpret_cast<const int64_t*>(gtb.data());
  const double rss0 = RssMb();
  std::vector<int> efs;
  if (type == "hnsw") {
    std::stringstream list(std::getenv("EF_SEARCH") ? std::getenv("EF_SEARCH") : "128");
    for (std::string item; std::getline(list, item, ',');) efs.push_back(std::stoi(item));
  } else {
    efs.push_back(0);
  }

  std::unique_ptr<crossmodal::search::AnnIndex> ann;
  std::unique_ptr<faiss::Index> stock;
  auto t0 = Clock::now();
  if (mode == "ann") {
    crossmodal::search::IndexSpec spec;
    spec.dim = d;
    spec.metric = crossmodal::search::Metric::kInnerProduct;
    spec.type = crossmodal::search::ParseIndexType(type);
    if (std::getenv("HNSW_M")) spec.hnsw_m = std::stoi(std::getenv("HNSW_M"));
    if (std::getenv("HNSW_EFC")) spec.ef_construction = std::stoi(std::getenv("HNSW_EFC"));
    if (type == "ivf-flat") spec.nprobe = std::stoi(std::getenv("NPROBE") ? std::getenv("NPROBE") : "0");
    if (const char* saved = std::getenv("LOAD_INDEX")) {
      ann = crossmodal::search::AnnIndex::Load(saved, crossmodal::search::LoadOptions{});
    } else {
      ann = std::make_unique<crossmodal::search::AnnIndex>(spec);
      ann->Add(base, n, nullptr, false);
    }
  } else {
    if (type == "flat") {
      stock = std::make_unique<faiss::IndexFlatIP>(d);
    } else if (type == "hnsw") {
      auto h = std::make_unique<faiss::IndexHNSWFlat>(d, std::getenv("HNSW_M") ? std::stoi(std::getenv("HNSW_M")) : 32,
                                                      faiss::METRIC_INNER_PRODUCT);
      h->hnsw.efConstruction = std::getenv("HNSW_EFC") ? std::stoi(std::getenv("HNSW_EFC")) : 200;
      stock = std::move(h);
    } else {
      const int nlist = crossmodal::search::AutoNlist(n);
      auto* q = new faiss::IndexFlatIP(d);
      auto ivf = std::make_unique<faiss::IndexIVFFlat>(q, d, nlist, faiss::METRIC_INNER_PRODUCT);
      ivf->own_fields = true;
      ivf->train(std::min<size_t>(n, nlist * 256), base);
      ivf->nprobe = std::getenv("NPROBE") ? std::stoi(std::getenv("NPROBE")) : nlist * 7 / 8;
      stock = std::move(ivf);
    }
    stock->add(n, base);
  }
  const double build_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const double rss = RssMb() - rss0;

  std::unique_ptr<Worker> handoff;
  if (std::getenv("HANDOFF") && std::string(std::getenv("HANDOFF")) == "1") handoff = std::make_unique<Worker>();
  std::vector<int64_t> ids(nq * k);
  std::vector<float> scores(nq * k);
  for (const int ef : efs) {
    crossmodal::search::SearchOptions options;
    options.ef_search = ef;
    if (auto* h = dynamic_cast<faiss::IndexHNSW*>(stock.get())) h->hnsw.efSearch = ef;
    auto run = [&](size_t bs) {
      auto t = Clock::now();
      for (size_t q = 0; q < nq; q += bs) {
        const size_t m = std::min(bs, nq - q);
        if (ann && handoff) {
          handoff->Run([&] {
            auto r = ann->Search(queries + q * d, m, k, options);
            std::copy_n(r.ids(), r.hits(), ids.begin() + q * k);
          });
        } else if (ann) {
          auto r = ann->Search(queries + q * d, m, k, options);
          std::copy_n(r.ids(), r.hits(), ids.begin() + q * k);
        } else {
          stock->search(m, queries + q * d, k, scores.data() + q * k,
                        reinterpret_cast<faiss::Index::idx_t*>(ids.data() + q * k));
        }
      }
      return nq / std::chrono::duration<double>(Clock::now() - t).count();
    };
    {  // warm-up, as the Node side's first calls are
      const size_t m = std::min<size_t>(64, nq);
      if (ann) ann->Search(queries, m, k, options);
      else stock->search(m, queries, k, scores.data(), reinterpret_cast<faiss::Index::idx_t*>(ids.data()));
    }
    const double qps1 = batch > 0 ? run(1) : 0;
    const double qps64 = run(64);
    size_t hit = 0;
    const bool have_gt = gtb.size() >= nq * k * sizeof(int64_t);
    for (size_t q = 0; have_gt && q < nq; ++q) {
      std::set<int64_t> truth(gt + q * k, gt + (q + 1) * k);
      for (size_t j = 0; j < k; ++j) hit += truth.count(ids[q * k + j]);
    }
    std::printf("{\"ef\":%d,\"build_ms\":%.1f,\"qps1\":%.2f,\"qps64\":%.2f,\"recall\":%.4f,\"rss_mb\":%.1f}\n", ef,
                build_ms, qps1, qps64, have_gt ? static_cast<double>(hit) / static_cast<double>(nq * k) : -1.0, rss);
    std::fflush(stdout);
  }
  return 0;
}
