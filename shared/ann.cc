/* shared/ann.cc -- the hnswlib shim behind shared/ann.h: HNSW over cosine similarity, a
 * validated single-file format written atomically, per-call ef that is safe from many threads.
 * Every C++ exception stops at the extern "C" boundary and becomes a malloc'ed *err.
 *
 * Vectors. Every vector (added or searched) is L2-normalised here, so the inner product is the
 * cosine whatever the embedder returns (some OpenAI-compatible servers do not normalise); a zero
 * vector stays zero (similarity 0 to everything). Non-finite values are refused. hnswlib's
 * inner-product distance is 1 - <a,b>, so similarity = 1 - distance.
 *
 * SIMD without -march. hnswlib picks its SIMD code at compile time (__SSE__/__AVX__), so a
 * portable x86-64 build would get its SSE kernels only. Here hnswlib's SIMD code is compiled
 * out (NO_MANUAL_VECTORIZATION) and hnswlib gets its own space (AnnSpace) whose distance is
 * chosen at run time: AVX2+FMA (a function compiled with __attribute__((target))) when the CPU
 * has both, else SSE2 (the x86-64 baseline), else plain C elsewhere; LEXRAG_ANN_KERNEL=portable
 * in the environment forces the fallback. Measured (bench/ann_eval.c, 44k x 384, ef 128): a
 * plain -O2 build searches as fast as an -mavx2 one (p50 0.21 ms both); the SSE2 kernel alone
 * is ~35% slower. Only this file may include hnswlib (the macro changes its inline code).
 *
 * Equal vectors. An id added with a vector equal (after normalising) to an earlier one's is kept
 * as an alias of that graph node, not as a node: hnswlib's neighbour heuristic links identical
 * vectors only to each other, and the 380 equal "Cukup jelas" records of the corpus made a
 * clique that held the entry point (recall@10 0.55-0.87 instead of 0.96). Searches return a
 * node's aliases right after it, with its similarity; ann_count counts them.
 *
 * File format (native little-endian x86-64; format 2):
 *   header, 96 bytes: magic "LXANN\r\n\x1a", version, header size, dim, M, ef_construction,
 *     flags, nodes, aliases, hnswlib-stream size, body size, body checksum, 16 reserved bytes,
 *     header checksum (AnnSum below).
 *   body: hnswlib 0.6.2's saveIndex stream (13 fixed fields, level-0 block, per-element upper
 *     link lists), then the alias table (16 bytes each: id, node, 0).
 * hnswlib's loadIndex trusts its input (a bad neighbour id is a wild read at search time), so
 * ann_open does its own load: it checks the header (magic, version, dimension, sizes against the
 * file size), every fixed field against what dim and M imply, every link list's size and level,
 * every neighbour id (< count, and present on that level), the entry point, the aliases, that
 * no id appears twice, and the checksum, and only then hands the memory to a HierarchicalNSW.
 * Any mismatch is an error message, never a crash. The loader fills hnswlib 0.6.2's public
 * members itself (AnnHnsw); revisit it when the Debian package moves past 0.6.x
 * (tests/unit/test_ann.c will say).
 *
 * Threads. hnswlib 0.6.2 keeps ef in the index (setEf) and searchKnn reads it, so a per-call ef
 * would race. ann_search runs searchKnn's algorithm itself (AnnHnsw::search: greedy descent,
 * then the base-layer beam) with the caller's ef as an argument; its only shared state is a
 * visited list from hnswlib's pool, which has its own mutex. A loaded index is never written,
 * so any number of threads may search it. The builder is single-threaded (one writer:
 * lexrag-ingest); 44k vectors of 384 take ~13 s with M 16, ef_construction 200. */
#include "ann.h"

/* hnswlib's own SIMD code is compiled out: the distance is ours (chosen at run time, below), and
 * its prefetches read one slot past a full link list (nmslib/hnswlib#107, #578: ASan reports
 * it while building); ann_search prefetches within bounds instead. */
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ANN_X86 1
#endif

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace
{

/* ef when the caller passes 0: max(ANN_EF_DEFAULT, ANN_EF_PER_K * k). On the corpus (44k
 * articles, dim 384, M 16, ef_construction 200; bench/ann_eval.c) recall against exact is 0.96
 * for k 10 at ef 128 (p50 0.21 ms) and 0.95 for k 100 at ef 300 (p50 0.57 ms). */
const unsigned ANN_EF_DEFAULT = 128;
const unsigned ANN_EF_PER_K = 3;
const unsigned ANN_M_DEFAULT = 16;
const unsigned ANN_EF_CONSTRUCTION_DEFAULT = 200;
/* Bounds checked on build and load (hnswlib stores list sizes as 16-bit counts). */
const unsigned ANN_DIM_MAX = 65536;
const unsigned ANN_M_MAX = 2048;
const int ANN_LEVEL_MAX = 64; /* levels are ~ln(count)/ln(M); 64 means a broken file */
const size_t ANN_SEED = 100;  /* hnswlib's default: the same input builds the same graph */

const char ANN_MAGIC[8] = {'L', 'X', 'A', 'N', 'N', '\r', '\n', '\x1a'};
const uint32_t ANN_VERSION = 2; /* 1: no alias table, 64-byte header */
const size_t ANN_HEADER_BYTES = 96;
/* hnswlib 0.6.2's fixed fields: 6 size_t, int maxlevel_, tableint enterpoint_node_, 3 size_t,
 * double mult_, size_t ef_construction_. */
const size_t ANN_BODY_FIXED_BYTES = 6 * 8 + 4 + 4 + 3 * 8 + 8 + 8;

static_assert(sizeof(size_t) == 8 && sizeof(hnswlib::labeltype) == 8, "64-bit only");
static_assert(sizeof(hnswlib::tableint) == 4 && sizeof(hnswlib::linklistsizeint) == 4,
              "hnswlib 0.6 layout");
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the file format is little-endian");

/* ---------------------------------------------------------------- errors */

void ann_set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void ann_set_err(char **err, const char *fmt, ...)
{
    if (err == nullptr)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(*err);
    *err = strdup(buf); /* NULL if even that fails: the caller still sees the -1 / NULL */
}

/* ---------------------------------------------------------------- dot-product kernels */

typedef float (*ann_dot_fn)(const float *a, const float *b, size_t n);

#ifndef ANN_X86
float ann_dot_plain(const float *a, const float *b, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}
#else
float ann_dot_sse(const float *a, const float *b, size_t n)
{
    __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps(), s2 = _mm_setzero_ps(),
           s3 = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
        s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(a + i + 4), _mm_loadu_ps(b + i + 4)));
        s2 = _mm_add_ps(s2, _mm_mul_ps(_mm_loadu_ps(a + i + 8), _mm_loadu_ps(b + i + 8)));
        s3 = _mm_add_ps(s3, _mm_mul_ps(_mm_loadu_ps(a + i + 12), _mm_loadu_ps(b + i + 12)));
    }
    for (; i + 4 <= n; i += 4)
        s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
    __m128 s = _mm_add_ps(_mm_add_ps(s0, s1), _mm_add_ps(s2, s3));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
    float r = _mm_cvtss_f32(s);
    for (; i < n; i++)
        r += a[i] * b[i];
    return r;
}

__attribute__((target("avx2,fma"))) float ann_dot_avx2(const float *a, const float *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(),
           s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 0x55));
    float r = _mm_cvtss_f32(h);
    for (; i < n; i++)
        r += a[i] * b[i];
    return r;
}
#endif

template <ann_dot_fn DOT> float ann_ip_distance(const void *a, const void *b, const void *param)
{
    return 1.0f - DOT(static_cast<const float *>(a), static_cast<const float *>(b),
                      *static_cast<const size_t *>(param));
}

struct ann_kernel {
    const char *name;
    ann_dot_fn dot;
    hnswlib::DISTFUNC<float> dist;
};

/* Chosen once per process (a function-local static: thread-safe initialisation). */
const ann_kernel &ann_pick_kernel()
{
    static const ann_kernel k = []() -> ann_kernel {
        const char *force = getenv("LEXRAG_ANN_KERNEL");
        bool portable = force != nullptr && strcmp(force, "portable") == 0;
#ifdef ANN_X86
        __builtin_cpu_init();
        if (!portable && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            return {"avx2+fma", ann_dot_avx2, ann_ip_distance<ann_dot_avx2>};
        return {"sse2", ann_dot_sse, ann_ip_distance<ann_dot_sse>};
#else
        (void)portable;
        return {"plain", ann_dot_plain, ann_ip_distance<ann_dot_plain>};
#endif
    }();
    return k;
}

class AnnSpace final : public hnswlib::SpaceInterface<float>
{
  public:
    explicit AnnSpace(size_t dim) : dim_(dim), dist_(ann_pick_kernel().dist)
    {
    }
    size_t get_data_size() override
    {
        return dim_ * sizeof(float);
    }
    hnswlib::DISTFUNC<float> get_dist_func() override
    {
        return dist_;
    }
    void *get_dist_func_param() override
    {
        return &dim_;
    }

  private:
    size_t dim_;
    hnswlib::DISTFUNC<float> dist_;
};

/* ---------------------------------------------------------------- checksum */

/* A 64-bit streaming checksum over 32-byte blocks in four lanes (xxHash64's round and
 * constants; not bit-compatible with it). Catches torn copies and flipped bits. */
class AnnSum
{
  public:
    AnnSum()
    {
        lane_[0] = P1 + P2;
        lane_[1] = P2;
        lane_[2] = 0;
        lane_[3] = 0 - P1;
    }
    void update(const void *data, size_t n)
    {
        const unsigned char *p = static_cast<const unsigned char *>(data);
        total_ += n;
        if (tail_n_ > 0) {
            size_t take = std::min(n, sizeof tail_ - tail_n_);
            memcpy(tail_ + tail_n_, p, take);
            tail_n_ += take, p += take, n -= take;
            if (tail_n_ < sizeof tail_)
                return;
            block(tail_);
            tail_n_ = 0;
        }
        for (; n >= 32; p += 32, n -= 32)
            block(p);
        memcpy(tail_, p, n);
        tail_n_ = n;
    }
    uint64_t digest() const
    {
        uint64_t h = rotl(lane_[0], 1) + rotl(lane_[1], 7) + rotl(lane_[2], 12) +
                     rotl(lane_[3], 18) + total_;
        for (size_t i = 0; i < tail_n_; i++)
            h = rotl(h ^ (tail_[i] * P5), 11) * P1;
        h ^= h >> 33;
        h *= P2;
        h ^= h >> 29;
        h *= P3;
        h ^= h >> 32;
        return h;
    }

  private:
    static const uint64_t P1 = 11400714785074694791ULL, P2 = 14029467366897019727ULL,
                          P3 = 1609587929392839161ULL, P5 = 2870177450012600261ULL;
    static uint64_t rotl(uint64_t x, int r)
    {
        return (x << r) | (x >> (64 - r));
    }
    void block(const unsigned char *p)
    {
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + 8 * k, 8);
            lane_[k] = rotl(lane_[k] + w * P2, 31) * P1;
        }
    }
    uint64_t lane_[4];
    unsigned char tail_[32];
    size_t tail_n_ = 0;
    uint64_t total_ = 0;
};

/* ---------------------------------------------------------------- file header */

struct AnnHeader {
    char magic[8];
    uint32_t version;
    uint32_t header_bytes;
    uint32_t dim;
    uint32_t m;
    uint32_t ef_construction;
    uint32_t flags;      /* 0 */
    uint64_t nodes;      /* vectors in the graph */
    uint64_t aliases;    /* ids whose vector equals a node's */
    uint64_t hnsw_bytes; /* the hnswlib stream */
    uint64_t body_bytes; /* hnswlib stream + alias table: the file after the header */
    uint64_t body_sum;
    uint64_t reserved[2]; /* 0 */
    uint64_t header_sum;  /* of the 88 bytes above */
};
static_assert(sizeof(AnnHeader) == ANN_HEADER_BYTES, "header layout");

/* One alias: an id added with a vector equal to an earlier one's (internal id node). */
struct AnnAlias {
    uint64_t label;
    uint32_t node;
    uint32_t zero;
};
static_assert(sizeof(AnnAlias) == 16, "alias layout");

uint64_t ann_header_sum(const AnnHeader &h)
{
    AnnSum s;
    s.update(&h, offsetof(AnnHeader, header_sum));
    return s.digest();
}

/* ---------------------------------------------------------------- the index */

/* HierarchicalNSW with a loader that validates, and a search with a per-call ef. */
class AnnHnsw final : public hnswlib::HierarchicalNSW<float>
{
  public:
    typedef hnswlib::HierarchicalNSW<float> Base;

    AnnHnsw(AnnSpace *s, size_t max_elements, size_t m, size_t ef_construction)
        : Base(s, max_elements, m, ef_construction, ANN_SEED)
    {
    }

    /* An empty shell for adopt(): hnswlib's (SpaceInterface *) constructor leaves the members
     * uninitialised, and its destructor frees them, so make them safe to destroy first. */
    explicit AnnHnsw(AnnSpace *s) : Base(s)
    {
        max_elements_ = cur_element_count = 0;
        size_data_per_element_ = size_links_per_element_ = num_deleted_ = 0;
        M_ = maxM_ = maxM0_ = ef_construction_ = 0;
        mult_ = revSize_ = 0.0;
        maxlevel_ = -1;
        visited_list_pool_ = nullptr;
        enterpoint_node_ = 0;
        size_links_level0_ = offsetData_ = offsetLevel0_ = 0;
        data_level0_memory_ = nullptr;
        linkLists_ = nullptr;
        data_size_ = label_offset_ = 0;
        fstdistfunc_ = s->get_dist_func();
        dist_func_param_ = s->get_dist_func_param();
        ef_ = 10;
        metric_distance_computations = 0;
        metric_hops = 0;
    }

    /* The k nearest as (distance, internal id), nearest first, searching the base layer with a
     * beam of ef (>= k). hnswlib 0.6.2's searchKnn reads the shared ef_; this is its algorithm
     * (greedy descent, then searchBaseLayerST) with the beam as an argument, and with
     * prefetches that stay inside the lists (hnswlib's read one slot past them). Read-only but
     * for a visited list taken from hnswlib's pool (which has its own mutex). */
    void search(const float *q, size_t k, size_t ef,
                std::vector<std::pair<float, hnswlib::tableint>> &out) const
    {
        out.clear();
        if (cur_element_count == 0 || k == 0)
            return;
        ef = std::max(ef, k);
        hnswlib::tableint cur = enterpoint_node_;
        float curdist = dist(q, cur);
        for (int level = maxlevel_; level > 0; level--) {
            bool changed = true;
            while (changed) {
                changed = false;
                hnswlib::linklistsizeint *ll = get_linklist(cur, level);
                size_t size = getListCount(ll);
                const hnswlib::tableint *nb = reinterpret_cast<const hnswlib::tableint *>(ll + 1);
                for (size_t i = 0; i < size; i++) {
                    if (i + 1 < size)
                        __builtin_prefetch(getDataByInternalId(nb[i + 1]));
                    float d = dist(q, nb[i]);
                    if (d < curdist) {
                        curdist = d;
                        cur = nb[i];
                        changed = true;
                    }
                }
            }
        }

        typedef std::pair<float, hnswlib::tableint> Cand;
        std::priority_queue<Cand, std::vector<Cand>, CompareByFirst> top;  /* farthest on top */
        std::priority_queue<Cand, std::vector<Cand>, CompareByFirst> todo; /* -distance */
        hnswlib::VisitedList *vl = visited_list_pool_->getFreeVisitedList();
        hnswlib::vl_type *visited = vl->mass, tag = vl->curV;
        top.emplace(curdist, cur);
        todo.emplace(-curdist, cur);
        visited[cur] = tag;
        float bound = curdist;
        while (!todo.empty()) {
            Cand c = todo.top();
            if (-c.first > bound && top.size() >= ef)
                break;
            todo.pop();
            hnswlib::linklistsizeint *ll = get_linklist0(c.second);
            size_t size = getListCount(ll);
            const hnswlib::tableint *nb = reinterpret_cast<const hnswlib::tableint *>(ll + 1);
            if (size > 0) {
                __builtin_prefetch(visited + nb[0]);
                __builtin_prefetch(getDataByInternalId(nb[0]));
            }
            for (size_t j = 0; j < size; j++) {
                if (j + 1 < size) {
                    __builtin_prefetch(visited + nb[j + 1]);
                    __builtin_prefetch(getDataByInternalId(nb[j + 1]));
                }
                hnswlib::tableint id = nb[j];
                if (visited[id] == tag)
                    continue;
                visited[id] = tag;
                float d = dist(q, id);
                if (top.size() < ef || d < bound) {
                    todo.emplace(-d, id);
                    top.emplace(d, id);
                    if (top.size() > ef)
                        top.pop();
                    bound = top.top().first;
                }
            }
        }
        visited_list_pool_->releaseVisitedList(vl);

        while (top.size() > k)
            top.pop();
        out.resize(top.size());
        for (size_t i = top.size(); i-- > 0;) { /* the queue pops the farthest first */
            out[i] = top.top();
            top.pop();
        }
    }

    /* Take over the validated parts read by ann_load (which no longer owns them). */
    void adopt(size_t dim, size_t count, size_t m, size_t ef_construction, double mult,
               int maxlevel, hnswlib::tableint enterpoint, char *level0, char **link_lists,
               std::vector<int> &&levels)
    {
        data_size_ = dim * sizeof(float);
        M_ = maxM_ = m;
        maxM0_ = 2 * m;
        ef_construction_ = ef_construction;
        mult_ = mult;
        revSize_ = 1.0 / mult;
        size_links_level0_ = maxM0_ * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
        size_links_per_element_ =
            maxM_ * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
        offsetLevel0_ = 0;
        offsetData_ = size_links_level0_;
        label_offset_ = size_links_level0_ + data_size_;
        size_data_per_element_ = label_offset_ + sizeof(hnswlib::labeltype);
        maxlevel_ = maxlevel;
        enterpoint_node_ = enterpoint;
        num_deleted_ = 0;
        visited_list_pool_ = new hnswlib::VisitedListPool(1, (int)std::max<size_t>(count, 1));
        /* From here nothing throws: the destructor frees what cur_element_count covers. */
        element_levels_ = std::move(levels);
        data_level0_memory_ = level0;
        linkLists_ = link_lists;
        max_elements_ = count;
        cur_element_count = count;
    }

    float dist(const float *q, hnswlib::tableint id) const
    {
        return fstdistfunc_(q, getDataByInternalId(id), dist_func_param_);
    }

    const char *vector_at(size_t i) const
    {
        return getDataByInternalId((hnswlib::tableint)i);
    }
    hnswlib::labeltype label_at(size_t i) const
    {
        return getExternalLabel((hnswlib::tableint)i);
    }
    bool has_label(hnswlib::labeltype l) const
    {
        return label_lookup_.count(l) != 0;
    }

    /* hnswlib 0.6.2's saveIndex stream, to any writer. */
    template <class W> void write_body(W &w) const
    {
        size_t max_elements = cur_element_count; /* a loader need not reserve more */
        w.pod(offsetLevel0_);
        w.pod(max_elements);
        w.pod(cur_element_count);
        w.pod(size_data_per_element_);
        w.pod(label_offset_);
        w.pod(offsetData_);
        w.pod(maxlevel_);
        w.pod(enterpoint_node_);
        w.pod(maxM_);
        w.pod(maxM0_);
        w.pod(M_);
        w.pod(mult_);
        w.pod(ef_construction_);
        w.bytes(data_level0_memory_, cur_element_count * size_data_per_element_);
        for (size_t i = 0; i < cur_element_count; i++) {
            unsigned int n = element_levels_[i] > 0
                                 ? (unsigned int)(size_links_per_element_ * element_levels_[i])
                                 : 0;
            w.pod(n);
            if (n)
                w.bytes(linkLists_[i], n);
        }
    }
};

/* ---------------------------------------------------------------- writing */

class AnnWriter
{
  public:
    explicit AnnWriter(int fd) : fd_(fd)
    {
        buf_.reserve(1 << 20);
    }
    template <class T> void pod(const T &v)
    {
        bytes(&v, sizeof v);
    }
    void bytes(const void *p, size_t n)
    {
        sum_.update(p, n);
        written_ += n;
        const char *c = static_cast<const char *>(p);
        while (n > 0 && ok_) {
            size_t take = std::min(n, buf_.capacity() - buf_.size());
            buf_.insert(buf_.end(), c, c + take);
            c += take, n -= take;
            if (buf_.size() == buf_.capacity())
                flush();
        }
    }
    bool flush()
    {
        size_t off = 0;
        while (ok_ && off < buf_.size()) {
            ssize_t w = write(fd_, buf_.data() + off, buf_.size() - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                ok_ = false;
                errno_ = w < 0 ? errno : EIO;
            } else {
                off += (size_t)w;
            }
        }
        buf_.clear();
        return ok_;
    }
    bool ok() const
    {
        return ok_;
    }
    int error() const
    {
        return errno_;
    }
    uint64_t written() const
    {
        return written_;
    }
    uint64_t digest() const
    {
        return sum_.digest();
    }

  private:
    int fd_;
    std::vector<char> buf_;
    AnnSum sum_;
    uint64_t written_ = 0;
    bool ok_ = true;
    int errno_ = 0;
};

bool ann_pwrite_all(int fd, const void *p, size_t n, off_t off)
{
    const char *c = static_cast<const char *>(p);
    while (n > 0) {
        ssize_t w = pwrite(fd, c, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        c += w, n -= (size_t)w, off += w;
    }
    return true;
}

int ann_fsync_dir(const std::string &path)
{
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int rc = fsync(dfd);
    int e = errno;
    close(dfd);
    errno = e;
    return rc;
}

/* ---------------------------------------------------------------- reading */

class AnnReader
{
  public:
    AnnReader(int fd, uint64_t limit) : fd_(fd), left_(limit)
    {
    }
    /* Read exactly n bytes of the body, or fail (short file, I/O error). */
    bool bytes(void *p, size_t n)
    {
        if (n > left_)
            return false;
        char *c = static_cast<char *>(p);
        size_t got = 0;
        while (got < n) {
            ssize_t r = read(fd_, c + got, n - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return false;
            got += (size_t)r;
        }
        sum_.update(p, n);
        left_ -= n;
        return true;
    }
    template <class T> bool pod(T &v)
    {
        return bytes(&v, sizeof v);
    }
    uint64_t left() const
    {
        return left_;
    }
    void extend(uint64_t n) /* allow n more bytes */
    {
        left_ += n;
    }
    uint64_t digest() const
    {
        return sum_.digest();
    }

  private:
    int fd_;
    uint64_t left_;
    AnnSum sum_;
};

/* What ann_load allocates before the index takes it over; freed if loading fails. */
struct AnnLoadParts {
    char *level0 = nullptr;
    char **links = nullptr;
    size_t n_links = 0;
    ~AnnLoadParts()
    {
        for (size_t i = 0; i < n_links; i++)
            free(links[i]);
        free(links);
        free(level0);
    }
};

} // namespace

/* ---------------------------------------------------------------- the C API */

struct ann_builder {
    unsigned dim;
    size_t max_elements;             /* nodes + aliases */
    std::unique_ptr<AnnSpace> space; /* before hnsw: outlives it */
    std::unique_ptr<AnnHnsw> hnsw;
    std::vector<float> scratch;
    /* Exact duplicates: a vector equal to a node's becomes an alias of that node instead of a
     * node. hnswlib links identical vectors only to each other (its neighbour heuristic keeps
     * every candidate at distance 0), so a few hundred equal vectors ("Cukup jelas" articles)
     * make a clique that traps the search: on the corpus recall@10 fell to 0.55. */
    std::unordered_multimap<uint64_t, hnswlib::tableint> by_bytes;
    std::vector<AnnAlias> aliases;
    std::unordered_set<hnswlib::labeltype> alias_labels;
};

struct ann_index {
    unsigned dim;
    size_t nodes, count; /* count: nodes + aliases */
    std::unique_ptr<AnnSpace> space;
    std::unique_ptr<AnnHnsw> hnsw;
    /* Aliases by node: labels alias_label[alias_off[n] .. alias_off[n + 1]) share node n's
     * vector (empty when the index has no aliases). */
    std::vector<uint32_t> alias_off;
    std::vector<hnswlib::labeltype> alias_label;
};

namespace
{

/* Copy vec into out, L2-normalised. false if a value is not finite. */
bool ann_normalise(const float *vec, unsigned dim, float *out)
{
    double ss = 0.0;
    for (unsigned i = 0; i < dim; i++) {
        if (!std::isfinite(vec[i]))
            return false;
        ss += (double)vec[i] * vec[i];
    }
    float inv = ss > 0.0 ? (float)(1.0 / std::sqrt(ss)) : 0.0f;
    for (unsigned i = 0; i < dim; i++)
        out[i] = vec[i] * inv;
    return true;
}

int ann_save(ann_builder *b, const char *path, char **err)
{
    std::string final_path(path), tmp = final_path + ".tmp";
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ann_set_err(err, "ann: cannot create %s: %s", tmp.c_str(), strerror(errno));
        return -1;
    }
    AnnHeader h;
    memset(&h, 0, sizeof h);
    /* A zero header first (a crash leaves a .tmp that ann_open refuses), the body, then the
     * real header with the body's size and checksum. */
    bool ok = ann_pwrite_all(fd, &h, sizeof h, 0) && lseek(fd, (off_t)sizeof h, SEEK_SET) >= 0;
    int e = errno;
    if (ok) {
        AnnWriter w(fd);
        b->hnsw->write_body(w);
        h.hnsw_bytes = w.written();
        if (!b->aliases.empty())
            w.bytes(b->aliases.data(), b->aliases.size() * sizeof(AnnAlias));
        ok = w.flush();
        e = w.error();
        memcpy(h.magic, ANN_MAGIC, sizeof h.magic);
        h.version = ANN_VERSION;
        h.header_bytes = (uint32_t)ANN_HEADER_BYTES;
        h.dim = b->dim;
        h.m = (uint32_t)b->hnsw->M_;
        h.ef_construction = (uint32_t)b->hnsw->ef_construction_;
        h.flags = 0;
        h.nodes = b->hnsw->cur_element_count;
        h.aliases = b->aliases.size();
        h.body_bytes = w.written();
        h.body_sum = w.digest();
        h.header_sum = ann_header_sum(h);
    }
    if (ok && !ann_pwrite_all(fd, &h, sizeof h, 0))
        ok = false, e = errno;
    if (ok && fsync(fd) != 0)
        ok = false, e = errno;
    if (close(fd) != 0 && ok)
        ok = false, e = errno;
    if (ok && rename(tmp.c_str(), final_path.c_str()) != 0)
        ok = false, e = errno;
    if (!ok) {
        unlink(tmp.c_str());
        ann_set_err(err, "ann: cannot write %s: %s", final_path.c_str(), strerror(e ? e : EIO));
        return -1;
    }
    if (ann_fsync_dir(final_path) != 0) {
        ann_set_err(err, "ann: %s renamed but its directory not synced: %s", final_path.c_str(),
                    strerror(errno));
        return -1;
    }
    return 0;
}

/* Load and validate path; NULL + *err on any inconsistency. */
ann_index *ann_load(const char *path, unsigned want_dim, char **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ann_set_err(err, "ann: cannot open %s: %s", path, strerror(errno));
        return nullptr;
    }
    struct FdCloser {
        int fd;
        ~FdCloser()
        {
            close(fd);
        }
    } closer{fd};
    struct stat st;
    if (fstat(fd, &st) != 0) {
        ann_set_err(err, "ann: cannot stat %s: %s", path, strerror(errno));
        return nullptr;
    }
    uint64_t file_bytes = (uint64_t)st.st_size;
    AnnHeader h;
    AnnReader hr(fd, ANN_HEADER_BYTES);
    if (file_bytes < ANN_HEADER_BYTES || !hr.bytes(&h, sizeof h)) {
        ann_set_err(err, "ann: %s: not an index (%llu bytes, shorter than the header)", path,
                    (unsigned long long)file_bytes);
        return nullptr;
    }
    if (memcmp(h.magic, ANN_MAGIC, sizeof h.magic) != 0) {
        ann_set_err(err, "ann: %s: not a lexrag vector index (bad magic)", path);
        return nullptr;
    }
    if (h.version != ANN_VERSION || h.header_bytes != ANN_HEADER_BYTES) {
        ann_set_err(err, "ann: %s: format version %u, this build reads %u (rebuild the index)",
                    path, h.version, ANN_VERSION);
        return nullptr;
    }
    if (h.header_sum != ann_header_sum(h)) {
        ann_set_err(err, "ann: %s: header checksum mismatch (corrupt file)", path);
        return nullptr;
    }
    if (h.dim != want_dim) {
        ann_set_err(err, "ann: %s: index dimension is %u, expected %u (embedder changed? rebuild)",
                    path, h.dim, want_dim);
        return nullptr;
    }
    if (h.dim == 0 || h.dim > ANN_DIM_MAX || h.m < 2 || h.m > ANN_M_MAX ||
        h.nodes >= (uint64_t)UINT32_MAX || h.aliases >= (uint64_t)UINT32_MAX || h.flags != 0 ||
        h.reserved[0] != 0 || h.reserved[1] != 0) {
        ann_set_err(err, "ann: %s: header out of range (dim %u, M %u, %llu vectors)", path, h.dim,
                    h.m, (unsigned long long)h.nodes);
        return nullptr;
    }
    if (h.body_bytes != file_bytes - ANN_HEADER_BYTES) {
        ann_set_err(err, "ann: %s: file is %llu bytes, header says %llu (truncated or torn copy)",
                    path, (unsigned long long)file_bytes,
                    (unsigned long long)(h.body_bytes + ANN_HEADER_BYTES));
        return nullptr;
    }

    const size_t dim = h.dim, m = h.m, count = (size_t)h.nodes, n_alias = (size_t)h.aliases;
    const size_t links0 = 2 * m * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
    const size_t links_up = m * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
    const size_t per_element = links0 + dim * sizeof(float) + sizeof(hnswlib::labeltype);
    /* The alias table ends the body; the hnswlib stream has its fixed fields, the level-0 block
     * and one 4-byte link-list size per element at least. */
    if (h.hnsw_bytes > h.body_bytes || h.body_bytes - h.hnsw_bytes != n_alias * sizeof(AnnAlias) ||
        h.hnsw_bytes < ANN_BODY_FIXED_BYTES ||
        (h.hnsw_bytes - ANN_BODY_FIXED_BYTES) / (per_element + 4) < count) {
        ann_set_err(err, "ann: %s: sizes disagree (%llu vectors of dimension %zu, %llu aliases)",
                    path, (unsigned long long)count, dim, (unsigned long long)n_alias);
        return nullptr;
    }

    AnnReader r(fd, h.hnsw_bytes);
    size_t f_offset_level0, f_max_elements, f_count, f_per_element, f_label_offset, f_offset_data;
    int f_maxlevel;
    hnswlib::tableint f_enterpoint;
    size_t f_max_m, f_max_m0, f_m, f_efc;
    double f_mult;
    bool ok = r.pod(f_offset_level0) && r.pod(f_max_elements) && r.pod(f_count) &&
              r.pod(f_per_element) && r.pod(f_label_offset) && r.pod(f_offset_data) &&
              r.pod(f_maxlevel) && r.pod(f_enterpoint) && r.pod(f_max_m) && r.pod(f_max_m0) &&
              r.pod(f_m) && r.pod(f_mult) && r.pod(f_efc);
    if (!ok || f_offset_level0 != 0 || f_count != count || f_max_elements < count ||
        f_per_element != per_element || f_offset_data != links0 ||
        f_label_offset != links0 + dim * sizeof(float) || f_max_m != m || f_max_m0 != 2 * m ||
        f_m != m || !std::isfinite(f_mult) || f_mult <= 0.0 ||
        (count > 0 && (f_maxlevel < 0 || f_maxlevel > ANN_LEVEL_MAX || f_enterpoint >= count))) {
        ann_set_err(err, "ann: %s: inconsistent hnsw fields (corrupt file)", path);
        return nullptr;
    }

    AnnLoadParts parts;
    parts.level0 = static_cast<char *>(malloc(std::max<size_t>(count * per_element, 1)));
    parts.links = static_cast<char **>(calloc(std::max<size_t>(count, 1), sizeof(char *)));
    if (parts.level0 == nullptr || parts.links == nullptr) {
        ann_set_err(err, "ann: %s: out of memory for %zu vectors", path, count);
        return nullptr;
    }
    parts.n_links = count;
    if (!r.bytes(parts.level0, count * per_element)) {
        ann_set_err(err, "ann: %s: short read in the vectors (truncated)", path);
        return nullptr;
    }
    std::vector<int> levels(count, 0);
    for (size_t i = 0; i < count; i++) {
        unsigned int n;
        if (!r.pod(n)) {
            ann_set_err(err, "ann: %s: short read in the link lists (truncated)", path);
            return nullptr;
        }
        if (n == 0)
            continue;
        if (n % links_up != 0 || n / links_up > (size_t)f_maxlevel || n > r.left()) {
            ann_set_err(err, "ann: %s: element %zu: bad link list size %u (corrupt file)", path, i,
                        n);
            return nullptr;
        }
        levels[i] = (int)(n / links_up);
        parts.links[i] = static_cast<char *>(malloc(n));
        if (parts.links[i] == nullptr) {
            ann_set_err(err, "ann: %s: out of memory", path);
            return nullptr;
        }
        if (!r.bytes(parts.links[i], n)) {
            ann_set_err(err, "ann: %s: short read in the link lists (truncated)", path);
            return nullptr;
        }
    }
    if (r.left() != 0) {
        ann_set_err(err, "ann: %s: %llu unexpected bytes after the link lists (corrupt file)", path,
                    (unsigned long long)r.left());
        return nullptr;
    }
    std::vector<AnnAlias> aliases(n_alias);
    r.extend(n_alias * sizeof(AnnAlias));
    if (n_alias > 0 && !r.bytes(aliases.data(), n_alias * sizeof(AnnAlias))) {
        ann_set_err(err, "ann: %s: short read in the aliases (truncated)", path);
        return nullptr;
    }
    if (r.digest() != h.body_sum) {
        ann_set_err(err, "ann: %s: body checksum mismatch (corrupt file)", path);
        return nullptr;
    }

    /* The graph: every neighbour exists and lives on the level it is linked from. */
    std::vector<hnswlib::labeltype> labels(count + n_alias);
    for (size_t i = 0; i < count; i++) {
        const char *el = parts.level0 + i * per_element;
        unsigned short n0;
        memcpy(&n0, el, sizeof n0);
        if ((unsigned char)el[2] & 0x01) { /* hnswlib's DELETE_MARK: this shim never deletes */
            ann_set_err(err, "ann: %s: element %zu marked deleted (corrupt file)", path, i);
            return nullptr;
        }
        if (n0 > 2 * m) {
            ann_set_err(err, "ann: %s: element %zu: %u level-0 links, max %zu (corrupt file)", path,
                        i, n0, 2 * m);
            return nullptr;
        }
        for (size_t j = 0; j < n0; j++) {
            hnswlib::tableint nb;
            memcpy(&nb, el + sizeof(hnswlib::linklistsizeint) + j * sizeof nb, sizeof nb);
            if (nb >= count) {
                ann_set_err(err, "ann: %s: element %zu links to %u of %zu (corrupt file)", path, i,
                            nb, count);
                return nullptr;
            }
        }
        memcpy(&labels[i], el + links0 + dim * sizeof(float), sizeof labels[i]);
        for (int l = 1; l <= levels[i]; l++) {
            const char *ll = parts.links[i] + (size_t)(l - 1) * links_up;
            unsigned short n;
            memcpy(&n, ll, sizeof n);
            if (n > m) {
                ann_set_err(err, "ann: %s: element %zu level %d: %u links (corrupt file)", path, i,
                            l, n);
                return nullptr;
            }
            for (size_t j = 0; j < n; j++) {
                hnswlib::tableint nb;
                memcpy(&nb, ll + sizeof(hnswlib::linklistsizeint) + j * sizeof nb, sizeof nb);
                if (nb >= count || levels[nb] < l) {
                    ann_set_err(err, "ann: %s: element %zu level %d: bad link %u (corrupt file)",
                                path, i, l, nb);
                    return nullptr;
                }
            }
        }
    }
    if (count > 0 && levels[f_enterpoint] != f_maxlevel) {
        ann_set_err(err, "ann: %s: entry point not on the top level (corrupt file)", path);
        return nullptr;
    }
    std::vector<uint32_t> alias_off(n_alias > 0 ? count + 1 : 0, 0);
    std::vector<hnswlib::labeltype> alias_label(n_alias);
    for (size_t i = 0; i < n_alias; i++) {
        if (aliases[i].node >= count || aliases[i].zero != 0) {
            ann_set_err(err, "ann: %s: alias %zu: bad node %u (corrupt file)", path, i,
                        aliases[i].node);
            return nullptr;
        }
        labels[count + i] = aliases[i].label;
        alias_off[aliases[i].node + 1]++;
    }
    for (size_t i = 0; n_alias > 0 && i < count; i++) /* counts -> offsets (CSR) */
        alias_off[i + 1] += alias_off[i];
    {
        std::vector<uint32_t> fill(alias_off.begin(), alias_off.end());
        for (size_t i = 0; i < n_alias; i++) /* in file order: the order they were added */
            alias_label[fill[aliases[i].node]++] = aliases[i].label;
    }
    std::sort(labels.begin(), labels.end());
    if (std::adjacent_find(labels.begin(), labels.end()) != labels.end()) {
        ann_set_err(err, "ann: %s: duplicate ids (corrupt file)", path);
        return nullptr;
    }

    std::unique_ptr<ann_index> ix(new ann_index);
    ix->dim = h.dim;
    ix->nodes = count;
    ix->count = count + n_alias;
    ix->alias_off = std::move(alias_off);
    ix->alias_label = std::move(alias_label);
    ix->space.reset(new AnnSpace(dim));
    ix->hnsw.reset(new AnnHnsw(ix->space.get()));
    ix->hnsw->adopt(dim, count, m, f_efc, f_mult, count > 0 ? f_maxlevel : -1, f_enterpoint,
                    parts.level0, parts.links, std::move(levels));
    parts.level0 = nullptr; /* the index owns them now */
    parts.links = nullptr;
    parts.n_links = 0;
    return ix.release();
}

/* Keep the k best (similarity, internal id) seen, as a min-heap on similarity. */
struct AnnTopK {
    explicit AnnTopK(size_t k) : k_(k)
    {
        heap_.reserve(k + 1);
    }
    void offer(float sim, size_t id)
    {
        if (heap_.size() < k_) {
            heap_.emplace_back(sim, id);
            std::push_heap(heap_.begin(), heap_.end(), worse);
        } else if (k_ > 0 && sim > heap_.front().first) {
            std::pop_heap(heap_.begin(), heap_.end(), worse);
            heap_.back() = {sim, id};
            std::push_heap(heap_.begin(), heap_.end(), worse);
        }
    }
    /* Best first; equal similarities by internal id (insertion order). */
    std::vector<std::pair<float, size_t>> &sorted()
    {
        std::sort(heap_.begin(), heap_.end(), worse);
        return heap_;
    }
    static bool worse(const std::pair<float, size_t> &a, const std::pair<float, size_t> &b)
    {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    }

  private:
    size_t k_;
    std::vector<std::pair<float, size_t>> heap_;
};

} // namespace

namespace
{

/* Write the k best of nodes (similarity, internal id; best first) into ids/sims, each node
 * followed by its aliases (same vector, same similarity), k at most. The count written. */
int ann_emit(const ann_index *ix, const std::vector<std::pair<float, hnswlib::tableint>> &best,
             unsigned k, int64_t *ids, float *sims)
{
    unsigned n = 0;
    for (size_t i = 0; i < best.size() && n < k; i++) {
        hnswlib::tableint node = best[i].second;
        ids[n] = (int64_t)ix->hnsw->label_at(node);
        sims[n++] = best[i].first;
        if (ix->alias_off.empty())
            continue;
        for (uint32_t a = ix->alias_off[node]; a < ix->alias_off[node + 1] && n < k; a++) {
            ids[n] = (int64_t)ix->alias_label[a];
            sims[n++] = best[i].first;
        }
    }
    return (int)n;
}

} // namespace

extern "C" {

ann_builder *ann_builder_new(unsigned dim, size_t max_elements, unsigned m,
                             unsigned ef_construction, char **err)
{
    try {
        if (m == 0)
            m = ANN_M_DEFAULT;
        if (ef_construction == 0)
            ef_construction = ANN_EF_CONSTRUCTION_DEFAULT;
        if (dim == 0 || dim > ANN_DIM_MAX || m < 2 || m > ANN_M_MAX ||
            max_elements >= (size_t)UINT32_MAX) {
            ann_set_err(err, "ann: bad build parameters (dim %u, M %u, max_elements %zu)", dim, m,
                        max_elements);
            return nullptr;
        }
        std::unique_ptr<ann_builder> b(new ann_builder);
        b->dim = dim;
        b->max_elements = max_elements; /* 0 allowed: an empty index */
        b->space.reset(new AnnSpace(dim));
        b->hnsw.reset(
            new AnnHnsw(b->space.get(), std::max<size_t>(max_elements, 1), m, ef_construction));
        b->scratch.resize(dim);
        return b.release();
    } catch (const std::exception &e) {
        ann_set_err(err, "ann: cannot create the builder: %s", e.what());
    } catch (...) {
        ann_set_err(err, "ann: cannot create the builder: unknown exception");
    }
    return nullptr;
}

int ann_builder_add(ann_builder *b, int64_t id, const float *vec, char **err)
{
    try {
        hnswlib::labeltype label = (hnswlib::labeltype)id;
        if (b->hnsw->cur_element_count + b->aliases.size() >= b->max_elements) {
            ann_set_err(err, "ann: index full (max_elements %zu)", b->max_elements);
            return -1;
        }
        if (b->hnsw->has_label(label) || b->alias_labels.count(label) != 0) {
            ann_set_err(err, "ann: duplicate id %lld", (long long)id);
            return -1;
        }
        if (!ann_normalise(vec, b->dim, b->scratch.data())) {
            ann_set_err(err, "ann: id %lld: vector has a non-finite value", (long long)id);
            return -1;
        }
        size_t bytes = b->dim * sizeof(float);
        AnnSum s;
        s.update(b->scratch.data(), bytes);
        uint64_t key = s.digest();
        auto range = b->by_bytes.equal_range(key);
        for (auto it = range.first; it != range.second; ++it)
            if (memcmp(b->hnsw->vector_at(it->second), b->scratch.data(), bytes) == 0) {
                b->aliases.push_back(AnnAlias{label, it->second, 0});
                b->alias_labels.insert(label);
                return 0;
            }
        hnswlib::tableint node = (hnswlib::tableint)b->hnsw->cur_element_count;
        b->hnsw->addPoint(b->scratch.data(), label);
        b->by_bytes.emplace(key, node);
        return 0;
    } catch (const std::exception &e) {
        ann_set_err(err, "ann: add %lld: %s", (long long)id, e.what());
    } catch (...) {
        ann_set_err(err, "ann: add %lld: unknown exception", (long long)id);
    }
    return -1;
}

int ann_builder_save(ann_builder *b, const char *path, char **err)
{
    try {
        return ann_save(b, path, err);
    } catch (const std::exception &e) {
        ann_set_err(err, "ann: save %s: %s", path, e.what());
    } catch (...) {
        ann_set_err(err, "ann: save %s: unknown exception", path);
    }
    return -1;
}

void ann_builder_free(ann_builder *b)
{
    delete b;
}

ann_index *ann_open(const char *path, unsigned dim, char **err)
{
    try {
        return ann_load(path, dim, err);
    } catch (const std::exception &e) {
        ann_set_err(err, "ann: open %s: %s", path, e.what());
    } catch (...) {
        ann_set_err(err, "ann: open %s: unknown exception", path);
    }
    return nullptr;
}

void ann_close(ann_index *ix)
{
    delete ix;
}

size_t ann_count(const ann_index *ix)
{
    return ix->count;
}

unsigned ann_dim(const ann_index *ix)
{
    return ix->dim;
}

int ann_search(const ann_index *ix, const float *vec, unsigned k, unsigned ef, int64_t *ids,
               float *sims, char **err)
{
    try {
        if (k == 0 || ix->nodes == 0)
            return 0;
        std::vector<float> q(ix->dim);
        if (!ann_normalise(vec, ix->dim, q.data())) {
            ann_set_err(err, "ann: query vector has a non-finite value");
            return -1;
        }
        size_t want = ef != 0 ? ef : std::max<size_t>(ANN_EF_DEFAULT, (size_t)ANN_EF_PER_K * k);
        std::vector<std::pair<float, hnswlib::tableint>> res;
        ix->hnsw->search(q.data(), k, std::max<size_t>(want, k), res);
        for (auto &r : res)
            r.first = 1.0f - r.first; /* distance -> similarity */
        return ann_emit(ix, res, k, ids, sims);
    } catch (const std::exception &e) {
        ann_set_err(err, "ann: search: %s", e.what());
    } catch (...) {
        ann_set_err(err, "ann: search: unknown exception");
    }
    return -1;
}

int ann_search_exact(const ann_index *ix, const float *vec, unsigned k, int64_t *ids, float *sims,
                     char **err)
{
    try {
        if (k == 0 || ix->nodes == 0)
            return 0;
        std::vector<float> q(ix->dim);
        if (!ann_normalise(vec, ix->dim, q.data())) {
            ann_set_err(err, "ann: query vector has a non-finite value");
            return -1;
        }
        ann_dot_fn dot = ann_pick_kernel().dot;
        AnnTopK top(k);
        for (size_t i = 0; i < ix->nodes; i++) {
            const float *v = reinterpret_cast<const float *>(ix->hnsw->vector_at(i));
            top.offer(dot(q.data(), v, ix->dim), i);
        }
        std::vector<std::pair<float, hnswlib::tableint>> best;
        for (const auto &t : top.sorted())
            best.emplace_back(t.first, (hnswlib::tableint)t.second);
        return ann_emit(ix, best, k, ids, sims);
    } catch (const std::exception &e) {
        ann_set_err(err, "ann: exact search: %s", e.what());
    } catch (...) {
        ann_set_err(err, "ann: exact search: unknown exception");
    }
    return -1;
}

} /* extern "C" */
